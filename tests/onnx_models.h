// Small ONNX models for the tests, written with ONNX's own protobuf classes, so that what the
// loader reads is made independently of it.
#pragma once
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace untangle::test {

struct OnnxModel {
  ::onnx::ModelProto proto;

  explicit OnnxModel(std::int64_t opset = 13, std::int64_t ir_version = 8) {
    proto.set_ir_version(ir_version);
    proto.set_producer_name("untangle-tests");
    auto* o = proto.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    proto.mutable_graph()->set_name("g");
  }
  ::onnx::GraphProto& graph() { return *proto.mutable_graph(); }

  // A dimension of -1 is symbolic, named "N".
  static void type(::onnx::ValueInfoProto* v, const std::string& name, int elem, const std::vector<std::int64_t>& dims) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    auto* shape = t->mutable_shape();
    for (std::int64_t d : dims) {
      if (d < 0)
        shape->add_dim()->set_dim_param("N");
      else
        shape->add_dim()->set_dim_value(d);
    }
  }
  OnnxModel& input(const std::string& name, const std::vector<std::int64_t>& dims, int elem = ::onnx::TensorProto::FLOAT) {
    type(graph().add_input(), name, elem, dims);
    return *this;
  }
  OnnxModel& output(const std::string& name, const std::vector<std::int64_t>& dims, int elem = ::onnx::TensorProto::FLOAT) {
    type(graph().add_output(), name, elem, dims);
    return *this;
  }
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  // A float32 initializer in raw_data.
  ::onnx::TensorProto& init(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    auto* t = graph().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (std::int64_t d : dims) t->add_dims(d);
    std::string raw(values.size() * sizeof(float), '\0');
    if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
    t->set_raw_data(raw);
    return *t;
  }
  std::string bytes() const { return proto.SerializeAsString(); }
};

inline void set_int(::onnx::NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void set_float(::onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void set_ints(::onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void set_string(::onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(v);
}

// A small classifier as exporters write one: Conv (3×3, 2 filters, same padding) → Relu →
// Flatten → Gemm (transB, 3 classes) → Softmax, on 1×4×4 images, batch symbolic.
inline OnnxModel small_cnn() {
  OnnxModel m;
  m.input("image", {-1, 1, 4, 4}).output("probs", {-1, 3});
  std::vector<float> w(2 * 9), fc(3 * 32), fc_b{0.1f, -0.2f, 0.3f};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.1f * static_cast<float>(static_cast<int>(i % 7) - 3);
  for (std::size_t i = 0; i < fc.size(); ++i) fc[i] = 0.05f * static_cast<float>(static_cast<int>(i % 5) - 2);
  m.init("conv1.weight", {2, 1, 3, 3}, w);
  m.init("conv1.bias", {2}, {0.5f, -0.5f});
  m.init("fc/weight", {3, 32}, fc);
  m.init("fc%bias", {3}, fc_b);
  auto& conv = m.node("Conv", {"image", "conv1.weight", "conv1.bias"}, {"c1"}, "conv1");
  set_ints(conv, "kernel_shape", {3, 3});
  set_ints(conv, "pads", {1, 1, 1, 1});
  m.node("Relu", {"c1"}, {"r1"}, "relu1");
  m.node("Flatten", {"r1"}, {"flat"}, "flatten");
  auto& gemm = m.node("Gemm", {"flat", "fc/weight", "fc%bias"}, {"logits"}, "fc");
  set_int(gemm, "transB", 1);
  m.node("Softmax", {"logits"}, {"probs"}, "softmax");
  return m;
}

}  // namespace untangle::test
