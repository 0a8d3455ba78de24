#include "nodes/onnx/model.h"

#include <onnx/checker.h>
#include <onnx/common/version.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>

namespace untangle::onnx {

namespace {

using Error = std::runtime_error;

// Which data field of a TensorProto holds a type's values when raw_data does not (onnx.proto).
enum class Field { float_data, double_data, int32_data, int64_data, none };

struct ElemInfo {
  Elem elem;
  const char* name;
  bool has_dtype;
  DType dtype;
  Field field;
};

constexpr ElemInfo kElems[] = {
    {Elem::float32, "float32", true, DType::f32, Field::float_data},
    {Elem::float64, "float64", true, DType::f64, Field::double_data},
    {Elem::int64, "int64", true, DType::i64, Field::int64_data},
    {Elem::int32, "int32", true, DType::i32, Field::int32_data},
    {Elem::int16, "int16", true, DType::i16, Field::int32_data},
    {Elem::int8, "int8", true, DType::i8, Field::int32_data},
    {Elem::uint8, "uint8", true, DType::u8, Field::int32_data},
    {Elem::undefined, "undefined", false, DType::f32, Field::none},
    {Elem::uint16, "uint16", false, DType::f32, Field::none},
    {Elem::string, "string", false, DType::f32, Field::none},
    {Elem::boolean, "bool", false, DType::f32, Field::none},
    {Elem::float16, "float16", false, DType::f32, Field::none},
    {Elem::uint32, "uint32", false, DType::f32, Field::none},
    {Elem::uint64, "uint64", false, DType::f32, Field::none},
    {Elem::complex64, "complex64", false, DType::f32, Field::none},
    {Elem::complex128, "complex128", false, DType::f32, Field::none},
    {Elem::bfloat16, "bfloat16", false, DType::f32, Field::none},
};

const ElemInfo* info(Elem e) {
  for (const auto& i : kElems)
    if (i.elem == e) return &i;
  return nullptr;
}

template <class Narrow>
void narrow_into(const google::protobuf::RepeatedField<std::int32_t>& from, unsigned char* to, const std::string& what) {
  Narrow* out = reinterpret_cast<Narrow*>(to);
  for (int i = 0; i < from.size(); ++i) {
    const std::int32_t v = from.Get(i);
    if (v < std::numeric_limits<Narrow>::min() || v > std::numeric_limits<Narrow>::max())
      throw Error(what + ": value " + std::to_string(v) + " at " + std::to_string(i) + " does not fit its type");
    out[i] = static_cast<Narrow>(v);
  }
}

template <class Repeated>
void copy_into(const Repeated& from, unsigned char* to) {
  if (from.size() > 0) std::memcpy(to, from.data(), from.size() * sizeof(from.Get(0)));
}

std::size_t typed_count(const ::onnx::TensorProto& t) {
  return t.float_data_size() + t.double_data_size() + t.int32_data_size() + t.int64_data_size() +
         t.uint64_data_size() + t.string_data_size();
}

// A TensorProto as a tensor; `what` ("m.onnx: initializer 'w'") begins every message.
Tensor tensor_of(const ::onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL) {
    std::string where;
    for (const auto& e : t.external_data())
      if (e.key() == "location") where = " ('" + e.value() + "')";
    throw Error(what + " keeps its data in another file" + where +
                "; untangle reads self-contained models only: save it with onnx.save_model(model, path, "
                "save_as_external_data=False)");
  }
  if (t.has_segment()) throw Error(what + " is a segment of a tensor, which untangle does not read");
  const Elem elem = static_cast<Elem>(t.data_type());
  const ElemInfo* ei = info(elem);
  if (!ei || !ei->has_dtype)
    throw Error(what + " is " + elem_name(elem) + "; untangle reads float32, float64, int64, int32, int16, int8 and "
                "uint8 tensors");
  std::vector<std::size_t> shape;
  for (const std::int64_t d : t.dims()) {
    if (d < 0) throw Error(what + " has a negative dimension (" + std::to_string(d) + ")");
    shape.push_back(static_cast<std::size_t>(d));
  }
  Tensor out = Tensor::allocate(ei->dtype, shape, what);
  const std::size_t n = out.size(), bytes = out.bytes.size();
  const auto mismatch = [&](std::size_t got, const char* unit) {
    return Error(what + ": its shape " + shape_string(shape) + " holds " + std::to_string(n) + " elements (" +
                 std::to_string(bytes) + " bytes), but its data holds " + std::to_string(got) + " " + unit);
  };
  if (t.has_raw_data()) {
    if (typed_count(t)) throw Error(what + " has both raw and typed data");
    if (t.raw_data().size() != bytes) throw mismatch(t.raw_data().size(), "bytes");
    if (bytes) std::memcpy(out.bytes.data(), t.raw_data().data(), bytes);  // little-endian, as onnx.proto says
    return out;
  }
  std::size_t own = 0;
  switch (ei->field) {
    case Field::float_data: own = t.float_data_size(); break;
    case Field::double_data: own = t.double_data_size(); break;
    case Field::int32_data: own = t.int32_data_size(); break;
    case Field::int64_data: own = t.int64_data_size(); break;
    case Field::none: break;
  }
  if (typed_count(t) != own) throw Error(what + " holds its " + ei->name + " values in a field of another type");
  if (own != n) throw mismatch(own, "elements");
  switch (out.dtype) {
    case DType::f32: copy_into(t.float_data(), out.bytes.data()); break;
    case DType::f64: copy_into(t.double_data(), out.bytes.data()); break;
    case DType::i64: copy_into(t.int64_data(), out.bytes.data()); break;
    case DType::i32: copy_into(t.int32_data(), out.bytes.data()); break;
    case DType::i16: narrow_into<std::int16_t>(t.int32_data(), out.bytes.data(), what); break;
    case DType::i8: narrow_into<std::int8_t>(t.int32_data(), out.bytes.data(), what); break;
    case DType::u8: narrow_into<std::uint8_t>(t.int32_data(), out.bytes.data(), what); break;
    case DType::str: break;
  }
  return out;
}

ValueInfo value_info(const ::onnx::ValueInfoProto& v) {
  ValueInfo out;
  out.name = v.name();
  const ::onnx::TypeProto& type = v.type();
  switch (type.value_case()) {
    case ::onnx::TypeProto::kTensorType: break;
    case ::onnx::TypeProto::kSequenceType: out.kind = "sequence"; return out;
    case ::onnx::TypeProto::kMapType: out.kind = "map"; return out;
    case ::onnx::TypeProto::kOptionalType: out.kind = "optional"; return out;
    case ::onnx::TypeProto::kSparseTensorType: out.kind = "sparse_tensor"; return out;
    default: out.kind = "untyped"; return out;
  }
  out.elem = static_cast<Elem>(type.tensor_type().elem_type());
  out.has_shape = type.tensor_type().has_shape();
  for (const auto& d : type.tensor_type().shape().dim()) {
    Dim dim;
    if (d.has_dim_value()) dim.value = d.dim_value();
    if (d.has_dim_param()) dim.param = d.dim_param();
    out.shape.push_back(dim);
  }
  return out;
}

using AP = ::onnx::AttributeProto;

// Old files leave the attribute's type unset; the field that holds a value says it then.
AP::AttributeType type_of(const AP& a) {
  if (a.type() != AP::UNDEFINED) return a.type();
  if (a.has_f()) return AP::FLOAT;
  if (a.has_i()) return AP::INT;
  if (a.has_s()) return AP::STRING;
  if (a.has_t()) return AP::TENSOR;
  if (a.has_g()) return AP::GRAPH;
  if (a.floats_size()) return AP::FLOATS;
  if (a.ints_size()) return AP::INTS;
  if (a.strings_size()) return AP::STRINGS;
  return AP::UNDEFINED;
}

Attribute attribute(const AP& a, const std::string& what) {
  switch (type_of(a)) {
    case AP::INT: return a.i();
    case AP::FLOAT: return a.f();
    case AP::STRING: return a.s();
    case AP::INTS: return std::vector<std::int64_t>(a.ints().begin(), a.ints().end());
    case AP::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case AP::TENSOR: return tensor_of(a.t(), what + ": attribute '" + a.name() + "'");
    case AP::GRAPH: return OtherAttribute{"graph"};
    case AP::GRAPHS: return OtherAttribute{"graphs"};
    case AP::STRINGS: return OtherAttribute{"strings"};
    case AP::TENSORS: return OtherAttribute{"tensors"};
    case AP::SPARSE_TENSOR: return OtherAttribute{"sparse tensor"};
    case AP::SPARSE_TENSORS: return OtherAttribute{"sparse tensors"};
    case AP::TYPE_PROTO: return OtherAttribute{"type"};
    case AP::TYPE_PROTOS: return OtherAttribute{"types"};
    default: return OtherAttribute{"undefined"};
  }
}

std::string describe(const ::onnx::NodeProto& n, std::size_t index) {
  Node node;
  node.name = n.name();
  node.op_type = n.op_type();
  return describe(node, index);
}

// Every name a node reads is given before it: by a graph input, an initializer or an earlier
// node. The checker says so too, but in its own words; a weight left out of an export is the usual
// cause, and this says which.
void check_names(const ::onnx::GraphProto& g, const std::string& file) {
  std::set<std::string> given;
  for (const auto& v : g.input()) given.insert(v.name());
  for (const auto& t : g.initializer()) given.insert(t.name());
  for (int i = 0; i < g.node_size(); ++i) {
    const ::onnx::NodeProto& n = g.node(i);
    for (const std::string& in : n.input())
      if (!in.empty() && !given.count(in))
        throw Error(file + ": " + describe(n, i) + " reads '" + in +
                    "', which no graph input, initializer or earlier node gives");
    for (const std::string& out : n.output()) given.insert(out);
  }
  for (const auto& v : g.output())
    if (!given.count(v.name())) throw Error(file + ": graph output '" + v.name() + "' is given by nothing in the graph");
}

}  // namespace

std::string elem_name(Elem e) {
  const ElemInfo* i = info(e);
  return i ? i->name : "type " + std::to_string(static_cast<int>(e));
}

bool dtype_of(Elem e, DType& out) {
  const ElemInfo* i = info(e);
  if (!i || !i->has_dtype) return false;
  out = i->dtype;
  return true;
}

Elem elem_of(DType d) {
  for (const auto& i : kElems)
    if (i.has_dtype && i.dtype == d) return i.elem;
  return Elem::undefined;
}

std::string library_versions() {
  return std::string("onnx ") + ::onnx::LAST_RELEASE_VERSION + " protobuf " +
         google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
}

std::string describe(const Node& node, std::size_t index) {
  return (node.name.empty() ? "node " + std::to_string(index) : "node '" + node.name + "'") + " (" +
         (node.domain.empty() ? "" : node.domain + ".") + node.op_type + ")";
}

Model parse_model(const std::string& bytes, const std::string& file) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw Error(file + ": " + bytes_text(bytes.size()) + ", more than an ONNX file can hold (2 GiB, protobuf's limit)");
  ::onnx::ModelProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(file + ": not an ONNX model: its bytes do not parse as one (a truncated file, or another format)");
  if (!proto.has_ir_version() || !proto.has_graph())
    throw Error(file + ": not an ONNX model: it has no " + (proto.has_ir_version() ? "graph" : "IR version"));
  const ::onnx::GraphProto& g = proto.graph();
  for (const auto& t : g.initializer())
    if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL)
      tensor_of(t, file + ": initializer '" + t.name() + "'");  // throws, saying how to fix it
  check_names(g, file);
  try {
    ::onnx::checker::check_model(proto);
  } catch (const std::exception& e) {
    throw Error(file + ": ONNX's checker refuses it: " + e.what());
  }
  Model m;
  m.file = file;
  m.ir_version = proto.ir_version();
  m.producer = proto.producer_name() + (proto.producer_version().empty() ? "" : " " + proto.producer_version());
  for (const auto& o : proto.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") m.opset = o.version();
  for (const auto& t : g.initializer()) {
    const std::string what = file + ": initializer '" + t.name() + "'";
    if (t.name().empty()) throw Error(file + ": an initializer has no name");
    if (!m.initializers.emplace(t.name(), tensor_of(t, what)).second) throw Error(what + " is given twice");
  }
  // Before IR version 4 every initializer was listed among the inputs too, as an input with a default.
  for (const auto& v : g.input())
    if (!m.initializers.count(v.name())) m.inputs.push_back(value_info(v));
  for (const auto& v : g.output()) m.outputs.push_back(value_info(v));
  for (const auto& v : g.value_info()) m.values.push_back(value_info(v));
  for (int i = 0; i < g.node_size(); ++i) {
    const ::onnx::NodeProto& n = g.node(i);
    Node node;
    node.name = n.name();
    node.op_type = n.op_type();
    node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    const std::string what = file + ": " + describe(node, i);
    for (const auto& a : n.attribute())
      if (!node.attributes.emplace(a.name(), attribute(a, what)).second)
        throw Error(what + ": attribute '" + a.name() + "' is given twice");
    m.nodes.push_back(std::move(node));
  }
  return m;
}

std::string infer_shapes(const std::string& bytes, const std::string& file) {
  ::onnx::ModelProto proto;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX) || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(file + ": not an ONNX model: its bytes do not parse as one (a truncated file, or another format)");
  // Not strict, and not checking the types the file declares: the model ran, so its shapes fit,
  // and old exporters broke type constraints no runtime enforced (PyTorch's int64 Constant at
  // opset 6). What inference cannot type stays untyped.
  proto.mutable_graph()->clear_value_info();
  try {
    ::onnx::shape_inference::InferShapes(proto, ::onnx::OpSchemaRegistry::Instance(),
                                         ::onnx::ShapeInferenceOptions(/*check_type=*/false, /*error_mode=*/0));
  } catch (const std::exception& e) {
    throw Error(file + ": ONNX's shape inference refuses it: " + e.what());
  }
  std::string out;
  if (!proto.SerializeToString(&out)) throw Error(file + ": the model does not serialise again after shape inference");
  return out;
}

std::string stamped(const std::string& bytes, const std::string& file, const std::string& version) {
  ::onnx::ModelProto proto;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX) || !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(file + ": not an ONNX model: its bytes do not parse as one (a truncated file, or another format)");
  auto* props = proto.mutable_metadata_props();
  for (int i = props->size(); i-- > 0;)
    if (props->Get(i).key() == "untangle.interpreter") props->DeleteSubrange(i, 1);
  auto* p = proto.add_metadata_props();
  p->set_key("untangle.interpreter");
  p->set_value(version);
  std::string out;
  if (!proto.SerializeToString(&out)) throw Error(file + ": the model does not serialise again");
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(path + ": cannot open");
  const std::streamoff size = in.tellg();
  if (size < 0) throw Error(path + ": cannot read");
  if (static_cast<std::uint64_t>(size) > static_cast<std::uint64_t>(INT_MAX))
    throw Error(path + ": " + bytes_text(static_cast<std::size_t>(size)) +
                ", more than an ONNX file can hold (2 GiB, protobuf's limit)");
  check_memory(static_cast<std::size_t>(size), path);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), size)) throw Error(path + ": cannot read");
  return bytes;
}

Model read_model(const std::string& path) { return parse_model(read_file(path), path); }

Tensor parse_tensor(const std::string& bytes, const std::string& file) {
  ::onnx::TensorProto proto;
  if (bytes.size() > static_cast<std::size_t>(INT_MAX) ||
      !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error(file + ": not an ONNX tensor: its bytes do not parse as one");
  return tensor_of(proto, file + ": tensor '" + proto.name() + "'");
}

}  // namespace untangle::onnx
