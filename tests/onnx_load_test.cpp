#include <doctest/doctest.h>

// load_onnx and the reader under it, on models written here with ONNX's protobuf classes: what a
// good model gives (the model after shape inference, the initializers by name, every element
// type raw and typed), and each refusal with its exact message. Then a graph through the untangle
// binary, whose cache keeps the weights under their encoded names.
#include <string>
#include <vector>

#include "nodes/onnx/model.h"
#include "nodes/onnx/ops.h"
#include "nodes/onnx/run.h"
#include "nodes/onnx/weights.h"
#include "tests/checks.h"
#include "tests/helpers.h"
#include "tests/onnx_models.h"

using namespace untangle;
using namespace untangle::test;
namespace ox = untangle::onnx;

namespace {

Outputs load(const std::string& path) {
  OpContext ctx;
  ctx.params["file"] = path;
  return load_onnx_op().run(ctx);
}

std::string error_of(const std::string& path) {
  try {
    load(path);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

template <class T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.size());
}

// x → Identity → y, with initializers beside it that nothing reads: the checker accepts those.
OnnxModel identity() {
  OnnxModel m;
  m.input("x", {2}).output("y", {2});
  m.node("Identity", {"x"}, {"y"}, "id");
  return m;
}

const char* kOps =
    "It runs the ops Add, AveragePool, BatchNormalization, Clip, Concat, Constant, Conv, Div, Dropout, Erf, Flatten, "
    "Gather, Gemm, GlobalAveragePool, Identity, LeakyRelu, LogSoftmax, MatMul, MaxPool, Mul, Pad, Relu, Reshape, "
    "Shape, Sigmoid, Softmax, Squeeze, Sub, Tanh, Transpose, Unsqueeze (float32 data; integers where ONNX computes "
    "shapes).";

}  // namespace

TEST_CASE("load_onnx: the model after shape inference, and each initializer under its name") {
  TempDir dir;
  const std::string path = dir / "cnn.onnx";
  write_file(path, small_cnn().bytes());
  const Outputs out = load(path);

  const Tensor& model = out.at("model");
  CHECK(model.dtype == DType::u8);
  REQUIRE(model.shape.size() == 1);
  ::onnx::ModelProto back;
  REQUIRE(back.ParseFromArray(model.bytes.data(), static_cast<int>(model.bytes.size())));
  // Shape inference typed every intermediate value: same padding keeps 4 × 4, two filters make 32.
  std::map<std::string, std::vector<std::string>> dims;
  for (const auto& v : back.graph().value_info())
    for (const auto& d : v.type().tensor_type().shape().dim())
      dims[v.name()].push_back(d.has_dim_value() ? std::to_string(d.dim_value()) : d.dim_param());
  CHECK(dims["c1"] == std::vector<std::string>{"N", "2", "4", "4"});
  CHECK(dims["flat"] == std::vector<std::string>{"N", "32"});
  CHECK(dims["logits"] == std::vector<std::string>{"N", "3"});

  // '/' and '%' are percent-encoded, so each name is one member; the values are the file's.
  std::vector<std::string> names;
  for (const auto& [name, t] : out)
    if (name.rfind("weights/", 0) == 0) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weights/conv1.bias", "weights/conv1.weight", "weights/fc%25bias",
                                          "weights/fc%2Fweight"});
  CHECK(values<float>(out.at("weights/conv1.bias")) == std::vector<float>{0.5f, -0.5f});
  CHECK(values<float>(out.at("weights/fc%25bias")) == std::vector<float>{0.1f, -0.2f, 0.3f});
  CHECK(out.at("weights/conv1.weight").shape == std::vector<std::size_t>{2, 1, 3, 3});
  CHECK(out.at("weights/conv1.weight").data<float>()[0] == -0.3f);
  CHECK(out.at("weights/fc%2Fweight").shape == std::vector<std::size_t>{3, 32});
  CHECK(ox::initializer_of("fc%2Fweight") == "fc/weight");
  CHECK(ox::member_of("a\nb") == "a%0Ab");
  CHECK(ox::member_of(".") == "%2E");
  CHECK(ox::initializer_of(ox::member_of(".")) == ".");
  CHECK_THROWS_WITH(ox::initializer_of("a%4"), "weight 'a%4' holds a '%' that escapes nothing");
}

TEST_CASE("onnx model: inputs with symbolic dimensions, nodes and attributes as plain structs") {
  const ox::Model m = ox::parse_model(small_cnn().bytes(), "cnn.onnx");
  CHECK(m.opset == 13);
  CHECK(m.ir_version == 8);
  CHECK(m.producer == "untangle-tests");
  REQUIRE(m.inputs.size() == 1);
  CHECK(m.inputs[0].name == "image");
  CHECK(m.inputs[0].elem == ox::Elem::float32);
  REQUIRE(m.inputs[0].shape.size() == 4);
  CHECK(m.inputs[0].shape[0].value == -1);
  CHECK(m.inputs[0].shape[0].param == "N");
  CHECK(m.inputs[0].shape[3].value == 4);
  REQUIRE(m.nodes.size() == 5);
  CHECK(m.nodes[0].op_type == "Conv");
  CHECK(m.nodes[0].inputs == std::vector<std::string>{"image", "conv1.weight", "conv1.bias"});
  CHECK(std::get<std::vector<std::int64_t>>(m.nodes[0].attributes.at("pads")) == std::vector<std::int64_t>{1, 1, 1, 1});
  CHECK(std::get<std::int64_t>(m.nodes[3].attributes.at("transB")) == 1);
  CHECK(m.initializers.size() == 4);
  CHECK(ox::library_versions() == "onnx 1.12.0 protobuf 3.21.12");  // Debian 12's
  CHECK(load_onnx_op().key_extra(YAML::Node()) == ox::library_versions());
}

TEST_CASE("onnx model: initializers of every element type, in raw_data and in the typed fields") {
  OnnxModel m = identity();
  const auto add = [&](const std::string& name, int type, std::vector<std::int64_t> dims) {
    auto* t = m.graph().add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    return t;
  };
  add("f32", ::onnx::TensorProto::FLOAT, {2})->add_float_data(1.5f);
  m.graph().mutable_initializer(0)->add_float_data(-2.25f);
  auto* f64 = add("f64", ::onnx::TensorProto::DOUBLE, {1});
  f64->add_double_data(0.1);
  auto* i64 = add("i64", ::onnx::TensorProto::INT64, {2});
  i64->add_int64_data(-5000000000);
  i64->add_int64_data(7);
  auto* i32 = add("i32", ::onnx::TensorProto::INT32, {1});
  i32->add_int32_data(-70000);
  auto* i16 = add("i16", ::onnx::TensorProto::INT16, {1});
  i16->add_int32_data(-300);
  auto* i8 = add("i8", ::onnx::TensorProto::INT8, {2});
  i8->add_int32_data(-128);
  i8->add_int32_data(127);
  add("u8", ::onnx::TensorProto::UINT8, {3})->set_raw_data(std::string("\x00\x07\xff", 3));
  add("scalar", ::onnx::TensorProto::FLOAT, {})->set_raw_data(std::string("\x00\x00\x80\x3f", 4));  // 1.0f
  const ox::Model got = ox::parse_model(m.bytes(), "m.onnx");
  CHECK(values<float>(got.initializers.at("f32")) == std::vector<float>{1.5f, -2.25f});
  CHECK(values<double>(got.initializers.at("f64")) == std::vector<double>{0.1});
  CHECK(values<std::int64_t>(got.initializers.at("i64")) == std::vector<std::int64_t>{-5000000000, 7});
  CHECK(values<std::int32_t>(got.initializers.at("i32")) == std::vector<std::int32_t>{-70000});
  CHECK(values<std::int16_t>(got.initializers.at("i16")) == std::vector<std::int16_t>{-300});
  CHECK(values<std::int8_t>(got.initializers.at("i8")) == std::vector<std::int8_t>{-128, 127});
  CHECK(values<std::uint8_t>(got.initializers.at("u8")) == std::vector<std::uint8_t>{0, 7, 255});
  CHECK(got.initializers.at("scalar").shape.empty());
  CHECK(values<float>(got.initializers.at("scalar")) == std::vector<float>{1.0f});

  OnnxModel wide = identity();
  wide.graph().add_initializer()->CopyFrom(*i8);
  wide.graph().mutable_initializer(0)->set_int32_data(1, 200);
  CHECK_THROWS_WITH(ox::parse_model(wide.bytes(), "m.onnx"), "m.onnx: initializer 'i8': value 200 at 1 does not fit its type");
  OnnxModel boolean = identity();
  boolean.graph().add_initializer()->CopyFrom(*i8);
  boolean.graph().mutable_initializer(0)->set_data_type(::onnx::TensorProto::BOOL);
  CHECK_THROWS_WITH(ox::parse_model(boolean.bytes(), "m.onnx"),
                    "m.onnx: initializer 'i8' is bool; untangle reads float32, float64, int64, int32, int16, int8 and "
                    "uint8 tensors");
}

TEST_CASE("load_onnx: a file that is no ONNX model, or a truncated one, is refused") {
  TempDir dir;
  write_file(dir / "text.onnx", "not a model\n");
  CHECK(error_of(dir / "text.onnx") ==
        dir / "text.onnx: not an ONNX model: its bytes do not parse as one (a truncated file, or another format)");
  write_file(dir / "empty.onnx", "");
  CHECK(error_of(dir / "empty.onnx") == dir / "empty.onnx: not an ONNX model: it has no IR version");
  const std::string whole = small_cnn().bytes();
  write_file(dir / "cut.onnx", whole.substr(0, whole.size() / 2));
  CHECK(error_of(dir / "cut.onnx") ==
        dir / "cut.onnx: not an ONNX model: its bytes do not parse as one (a truncated file, or another format)");
  CHECK(error_of(dir / "missing.onnx") == dir / "missing.onnx: cannot open");
}

TEST_CASE("load_onnx: ops, attributes and element types it does not run are all named, with what it runs") {
  TempDir dir;
  OnnxModel m;
  m.input("x", {1, 1, 4, 4}).output("y", {1, 1, 6, 6});
  m.node("Neg", {"x"}, {"n"}, "negate");
  m.node("Relu", {"n"}, {"r"}, "relu");  // reads a value of unknown type, so nothing is said of it
  auto& pad = m.node("Pad", {"x", "pads"}, {"p"});
  set_string(pad, "mode", "wrap");
  auto& pool = m.node("MaxPool", {"p"}, {"y", "where"}, "pool");
  set_ints(pool, "kernel_shape", {1, 1});
  set_string(m.node("Constant", {}, {"s"}, "text"), "value_string", "hello");
  auto* pads = m.graph().add_initializer();
  pads->set_name("pads");
  pads->set_data_type(::onnx::TensorProto::INT64);
  for (int i = 0; i < 8; ++i) pads->add_int64_data(i % 4 < 2 ? 0 : 1);
  pads->add_dims(8);
  write_file(dir / "m.onnx", m.bytes());
  CHECK(error_of(dir / "m.onnx") ==
        dir / "m.onnx: untangle cannot run this model:\n"
              "  node 'negate' (Neg): an op untangle does not run\n"
              "  node 2 (Pad): mode 'wrap' is none of constant, edge and reflect\n"
              "  node 'pool' (MaxPool): output 1 ('where'): MaxPool's indices are not made\n"
              "  node 'text' (Constant): attribute 'value_string' is not supported; Constant reads value, value_float, "
              "value_floats, value_int, value_ints\n" +
                  kOps);

  OnnxModel ints;
  ints.input("x", {2}, ::onnx::TensorProto::UINT8).output("y", {2}, ::onnx::TensorProto::UINT8);
  ints.node("Relu", {"x"}, {"y"}, "relu");
  write_file(dir / "u8.onnx", ints.bytes());
  CHECK(error_of(dir / "u8.onnx") == dir / "u8.onnx: untangle cannot run this model:\n"
                                                "  node 'relu' (Relu): input 0 ('x') is uint8; Relu takes float32 here\n" +
                                         kOps);
}

TEST_CASE("load_onnx: a node that reads a name nothing gives (an initializer left out) is refused") {
  TempDir dir;
  OnnxModel m = small_cnn();
  m.graph().mutable_initializer()->erase(m.graph().mutable_initializer()->begin());  // conv1.weight
  write_file(dir / "m.onnx", m.bytes());
  CHECK(error_of(dir / "m.onnx") ==
        dir / "m.onnx: node 'conv1' (Conv) reads 'conv1.weight', which no graph input, initializer or earlier node gives");
  OnnxModel late = identity();
  late.graph().mutable_output(0)->set_name("z");
  write_file(dir / "late.onnx", late.bytes());
  CHECK(error_of(dir / "late.onnx") == dir / "late.onnx: graph output 'z' is given by nothing in the graph");
}

TEST_CASE("load_onnx: an initializer whose shape does not match its data is refused") {
  TempDir dir;
  OnnxModel raw = small_cnn();
  raw.graph().mutable_initializer(1)->mutable_raw_data()->resize(4);  // conv1.bias [2], one float
  write_file(dir / "raw.onnx", raw.bytes());
  CHECK(error_of(dir / "raw.onnx") == dir / "raw.onnx: initializer 'conv1.bias': its shape [2] holds 2 elements (8 "
                                            "bytes), but its data holds 4 bytes");
  OnnxModel typed = small_cnn();
  auto* bias = typed.graph().mutable_initializer(1);
  bias->clear_raw_data();
  for (float v : {1.0f, 2.0f, 3.0f}) bias->add_float_data(v);
  write_file(dir / "typed.onnx", typed.bytes());
  CHECK(error_of(dir / "typed.onnx") == dir / "typed.onnx: initializer 'conv1.bias': its shape [2] holds 2 elements "
                                              "(8 bytes), but its data holds 3 elements");
  OnnxModel other = small_cnn();
  other.graph().mutable_initializer(1)->clear_raw_data();
  other.graph().mutable_initializer(1)->add_int64_data(1);
  other.graph().mutable_initializer(1)->add_int64_data(2);
  write_file(dir / "other.onnx", other.bytes());
  CHECK(error_of(dir / "other.onnx") == dir / "other.onnx: ONNX's checker refuses it: values of data_type '1' should "
                                              "be stored in field 'float_data' instead of 'int64_data'");
  // A shape that fits its data but not its node: the run on zeros that load_onnx makes names the node.
  OnnxModel wrong = small_cnn();
  wrong.graph().mutable_initializer(2)->set_dims(1, 31);  // fc/weight [3, 31] for 32 inputs
  wrong.graph().mutable_initializer(2)->mutable_raw_data()->resize(3 * 31 * 4);
  write_file(dir / "wrong.onnx", wrong.bytes());
  const std::string e = error_of(dir / "wrong.onnx");
  CHECK(e == dir / "wrong.onnx: node 'fc' (Gemm): A [1, 32] and B [3, 31] do not multiply (transA 0, transB 1)");
}

TEST_CASE("load_onnx: weights kept in another file (external data) are refused, saying how to keep them inside") {
  TempDir dir;
  OnnxModel m = small_cnn();
  auto* w = m.graph().mutable_initializer(0);
  w->clear_raw_data();
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto* e = w->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  write_file(dir / "m.onnx", m.bytes());
  CHECK(error_of(dir / "m.onnx") ==
        dir / "m.onnx: initializer 'conv1.weight' keeps its data in another file ('weights.bin'); untangle reads "
              "self-contained models only: save it with onnx.save_model(model, path, save_as_external_data=False)");
}

TEST_CASE("load_onnx: through the binary, the file keyed by content and the weights cached under their names") {
  TempDir dir;
  write_file(dir / "cnn.onnx", small_cnn().bytes());
  write_file(dir / "g.yaml", "nodes:\n  net: {op: load_onnx, params: {file: " + dir / "cnn.onnx" + "}}\n");
  const std::string args = " " + (dir / "g.yaml") + " --cache " + (dir / "cache");
  const std::string bin = std::string("cd ") + dir.path + " && " + UNTANGLE_BINARY;
  auto r = run_command(bin + " run" + args);
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  CHECK_CONTAINS(r.out, "net: 5 nodes, 4 initializers, opset 13, from untangle-tests");
  r = run_command(bin + " get " + (dir / "g.yaml") + " net.weights --cache " + (dir / "cache"));
  CHECK(r.out == "conv1.bias\tfloat32 [2]\nconv1.weight\tfloat32 [2, 1, 3, 3]\nfc%25bias\tfloat32 [3]\n"
                 "fc%2Fweight\tfloat32 [3, 32]\n");
  r = run_command(bin + " get " + (dir / "g.yaml") + " net.weights/fc%25bias --cache " + (dir / "cache"));
  CHECK(r.out == "0.1,-0.2,0.3\n");
  CHECK(read_file(dir / "results/g/net.onnx").size() > small_cnn().bytes().size());  // with the inferred types
  r = run_command(bin + " status" + args);
  CHECK_CONTAINS(r.out, "net\tcached");
  // The same path with other content is another key.
  OnnxModel other = small_cnn();
  other.graph().mutable_initializer(1)->set_raw_data(std::string("\0\0\0\0\0\0\0\0", 8));
  write_file(dir / "cnn.onnx", other.bytes());
  r = run_command(bin + " status" + args);
  CHECK_CONTAINS(r.out, "net\tstale");
}

TEST_CASE("load_onnx: attributes its checker lets through and shape inference would trust fail the run first") {
  // libonnx 1.12's shape inference divides by a stride of 0 (SIGFPE) and reads past the end of a
  // kernel_shape shorter than the input's spatial axes: the run on zeros refuses both before it.
  TempDir dir;
  OnnxModel pool;
  pool.input("x", {1, 1, 4, 4}).output("y", {1, 1, 3, 3});
  auto& p = pool.node("MaxPool", {"x"}, {"y"}, "pool");
  set_ints(p, "kernel_shape", {2, 2});
  set_ints(p, "strides", {1, 0});
  write_file(dir / "pool.onnx", pool.bytes());
  CHECK(error_of(dir / "pool.onnx") ==
        dir / "pool.onnx: node 'pool' (MaxPool): strides holds 0; each must be at least 1 and below 2^31");
  OnnxModel conv = small_cnn();
  conv.graph().mutable_node(0)->mutable_attribute(0)->mutable_ints()->RemoveLast();  // kernel_shape [3]
  write_file(dir / "conv.onnx", conv.bytes());
  CHECK(error_of(dir / "conv.onnx") == dir / "conv.onnx: node 'conv1' (Conv): kernel_shape differs from W's spatial shape [3, 3]");
}

TEST_CASE("load_onnx: a model with an integer input is not run on zeros, which could be no shape, and goes on as it is") {
  // ONNX's Reshape case takes its new shape as an input: zeros [4] would be no shape of [2, 3, 4].
  const std::string file = std::string(ONNX_TESTDATA) + "/node/test_reshape_negative_extended_dims/model.onnx";
  const Outputs out = load(file);
  // As the file has it, but for the interpreter's version (no shape inference added values).
  const std::string want = ox::stamped(read_file(file), file, ox::kInterpreter);
  CHECK(out.at("model").bytes == std::vector<unsigned char>(want.begin(), want.end()));
}
