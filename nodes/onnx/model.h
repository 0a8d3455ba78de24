// An ONNX model as plain structs: its graph's inputs and outputs, nodes with their attributes, and
// the initializers as untangle tensors. Nothing here exposes protobuf; model.cpp is the only file
// that reads it. The file is untrusted: it must parse and pass ONNX's checker, and every size it
// gives is checked before it sizes anything (Tensor::allocate).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "pipeline/tensor.h"

namespace untangle::onnx {

// Element types, numbered as ONNX's TensorProto.DataType numbers them.
enum class Elem : int {
  undefined = 0, float32 = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8,
  boolean = 9, float16 = 10, float64 = 11, uint32 = 12, uint64 = 13, complex64 = 14, complex128 = 15, bfloat16 = 16
};
std::string elem_name(Elem e);  // "float32", "bool", or "type 42" for a number ONNX does not define
// The untangle dtype that holds it; false for those untangle has none for (bool, uint16, float16, …).
bool dtype_of(Elem e, DType& out);
Elem elem_of(DType d);

// A dimension: known (value ≥ 0) or symbolic, named (`param`, say "batch") or not.
struct Dim {
  std::int64_t value = -1;
  std::string param;
};

struct ValueInfo {
  std::string name;
  std::string kind = "tensor";  // or sequence, map, optional, sparse_tensor: no tensor at all
  Elem elem = Elem::undefined;
  bool has_shape = false;       // false: the rank is unknown too
  std::vector<Dim> shape;
};

// An attribute of a kind the interpreter never reads (a subgraph, a list of strings, …): kept by
// name so that a node carrying it can be refused with what it is.
struct OtherAttribute {
  std::string kind;
};
using Attribute = std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>, std::vector<float>, Tensor,
                               OtherAttribute>;

struct Node {
  std::string name, op_type, domain;      // domain "" is ONNX's own (ai.onnx)
  std::vector<std::string> inputs, outputs;  // "" for an optional input left out
  std::map<std::string, Attribute> attributes;
};

struct Model {
  std::string file;  // where it came from, for messages
  std::int64_t ir_version = 0;
  std::int64_t opset = 0;  // of ONNX's own domain
  std::string producer;    // "pytorch 2.1", as the file says
  std::vector<ValueInfo> inputs;  // what a caller feeds: graph inputs that are not initializers
  std::vector<ValueInfo> outputs;
  std::vector<ValueInfo> values;  // the intermediate values the file types (after infer_shapes: all it can)
  std::vector<Node> nodes;        // in the file's order, which the checker requires to be topological
  std::map<std::string, Tensor> initializers;
};

// Parses an ONNX file's bytes and runs ONNX's checker. Every error names `file`, and a node's
// error its name and op.
Model parse_model(const std::string& bytes, const std::string& file);
std::string read_file(const std::string& path);  // its size checked first
Model read_model(const std::string& path);

// The model's bytes again with every value typed by ONNX's shape inference (the file's own
// value_info dropped first). Only for a model that ran (load_onnx runs it once on zeros): libonnx
// 1.12's inference trusts attributes that its checker lets through, and a stride of 0 divides by
// zero in it, a kernel_shape of the wrong length reads past its end.
std::string infer_shapes(const std::string& bytes, const std::string& file);
// The model's bytes with metadata_props "untangle.interpreter" = `version` (kInterpreter, run.h),
// in place of any the file had.
std::string stamped(const std::string& bytes, const std::string& file, const std::string& version);

// A serialised TensorProto (the input_0.pb files of ONNX's test data), as a tensor.
Tensor parse_tensor(const std::string& bytes, const std::string& file);

// The versions of ONNX's library and protobuf's, whose shape inference and serialisation make the
// bytes infer_shapes gives, so that a key of load_onnx's holds them ("onnx 1.12.0 protobuf 3.21.12").
std::string library_versions();

// "node 'conv1' (Conv)", or "node 3 (Conv)" for one without a name (numbered from 0, as graph.node).
std::string describe(const Node& node, std::size_t index);

}  // namespace untangle::onnx
