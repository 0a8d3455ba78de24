// A model's initializers as the members of a group output (`load_onnx`'s `weights`): one tensor
// per initializer, its name made safe as a member's. A member is one HDF5 dataset name in the
// cache and one label after the group's port, so an ONNX name ("/features/0/Conv.weight",
// "onnx::Conv_123") keeps no '/' and no control character: those, and '%', are percent-encoded.
#pragma once
#include <string>

namespace untangle::onnx {

std::string member_of(const std::string& initializer);
std::string initializer_of(const std::string& member);  // the inverse; throws on a malformed escape

}  // namespace untangle::onnx
