#include "nodes/nn/model.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>
#include <stdexcept>

#include "nodes/nn/dense.h"
#include "nodes/nn/simple_layers.h"
#include "nodes/nn/conv2d.h"
#include "nodes/nn/maxpool2d.h"

namespace untangle::nn {

namespace {

// Keras's default names: the snake-case class name and a per-class counter from 1.
const std::map<std::string, std::string> kKerasPrefix = {
    {"dense", "dense"},     {"conv2d", "conv2d"},         {"maxpool2d", "max_pooling2d"},
    {"flatten", "flatten"}, {"activation", "activation"}, {"dropout", "dropout"}};

template <class T> T get(const YAML::Node& args, const char* key, const T& fallback) {
  return args[key] ? args[key].as<T>() : fallback;
}

std::unique_ptr<Layer> make_layer(const std::string& type, const YAML::Node& args) {
  static const std::map<std::string, std::vector<std::string>> allowed = {
      {"dense", {"units", "activation", "init", "name"}},
      {"conv2d", {"filters", "kernel", "stride", "padding", "activation", "init", "name"}},
      {"maxpool2d", {"pool", "stride", "name"}},
      {"flatten", {"name"}},
      {"activation", {"fn", "name"}},
      {"dropout", {"rate", "name"}}};
  if (!allowed.count(type))
    throw std::invalid_argument("unknown layer type '" + type + "' (dense, conv2d, maxpool2d, flatten, activation, dropout)");
  for (auto it = args.begin(); it != args.end(); ++it) {
    const auto key = it->first.as<std::string>();
    const auto& ok = allowed.at(type);
    if (std::find(ok.begin(), ok.end(), key) == ok.end()) {
      std::string list;
      for (const auto& k : ok) list += (list.empty() ? "" : ", ") + k;
      throw std::invalid_argument("unknown setting '" + key + "' (" + type + " takes " + list + ")");
    }
  }
  const Init init = parse_init(get<std::string>(args, "init", "glorot_uniform"));
  if (type == "dense") {
    if (!args["units"]) throw std::invalid_argument("dense needs units");
    const auto units = args["units"].as<long>();
    if (units < 1) throw std::invalid_argument("units must be at least 1");
    return std::make_unique<Dense>(static_cast<std::size_t>(units), parse_act(get<std::string>(args, "activation", "linear")), init);
  }
  if (type == "conv2d") {
    if (!args["filters"] || !args["kernel"]) throw std::invalid_argument("conv2d needs filters and kernel");
    std::size_t kh, kw;
    if (args["kernel"].IsSequence()) kh = args["kernel"][0].as<std::size_t>(), kw = args["kernel"][1].as<std::size_t>();
    else kh = kw = args["kernel"].as<std::size_t>();
    const std::string padding = get<std::string>(args, "padding", "valid");
    if (padding != "same" && padding != "valid") throw std::invalid_argument("padding must be same or valid");
    return std::make_unique<Conv2D>(args["filters"].as<std::size_t>(), kh, kw, get<std::size_t>(args, "stride", 1),
                                    padding == "same", parse_act(get<std::string>(args, "activation", "linear")), init);
  }
  if (type == "maxpool2d") {
    const auto pool = get<std::size_t>(args, "pool", 2);
    return std::make_unique<MaxPool2D>(pool, get<std::size_t>(args, "stride", pool));
  }
  if (type == "flatten") return std::make_unique<Flatten>();
  if (type == "activation") {
    if (!args["fn"]) throw std::invalid_argument("activation needs fn");
    return std::make_unique<Activation>(parse_act(args["fn"].as<std::string>()));
  }
  if (type == "dropout") {
    const double rate = get<double>(args, "rate", 0.5);
    if (rate < 0 || rate >= 1) throw std::invalid_argument("rate must be in [0, 1)");
    return std::make_unique<Dropout>(rate);
  }
  throw std::logic_error("layer type " + type + " is declared but not built");
}

std::string shape_text(const Shape& s) {
  std::string t = "(None";
  for (auto d : s) t += ", " + std::to_string(d);
  return t + ")";
}

std::string with_commas(std::size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

Model Model::build(const YAML::Node& layers, const Shape& input) {
  if (!layers.IsSequence() || layers.size() == 0) throw std::invalid_argument("model must be a non-empty list of layers");
  Model m;
  m.input = input;
  m.spec = YAML::Node(YAML::NodeType::Sequence);
  std::map<std::string, int> counters;
  std::map<std::string, bool> taken;
  Shape shape = input;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const YAML::Node& entry = layers[i];
    std::string type;
    YAML::Node args(YAML::NodeType::Map);
    if (entry.IsScalar()) {
      type = entry.Scalar();
    } else if (entry.IsMap() && entry.size() == 1) {
      type = entry.begin()->first.as<std::string>();
      if (!entry.begin()->second.IsNull()) args = YAML::Clone(entry.begin()->second);
    } else {
      throw std::invalid_argument("layer " + std::to_string(i + 1) + " must be a layer type or {type: {settings}}");
    }
    try {
      auto layer = make_layer(type, args);
      const std::string name =
          args["name"] ? args["name"].as<std::string>() : kKerasPrefix.at(type) + "_" + std::to_string(++counters[type]);
      if (taken[name]) throw std::invalid_argument("name '" + name + "' is used twice");
      taken[name] = true;
      layer->name = name;
      shape = layer->build(shape);
      args["name"] = name;
      YAML::Node resolved(YAML::NodeType::Map);
      resolved[type] = args;
      m.spec.push_back(resolved);
      m.layers.push_back(std::move(layer));
    } catch (const YAML::Exception& e) {
      throw std::invalid_argument("layer " + std::to_string(i + 1) + " (" + type + "): " + e.msg);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("layer " + std::to_string(i + 1) + " (" + type + "): " + e.what());
    }
  }
  return m;
}

void Model::init(std::uint64_t seed) {
  Rng rng(seed);
  for (auto& l : layers) l->init(rng);
}

std::size_t Model::param_count() const {
  std::size_t n = 0;
  for (const auto& l : layers)
    for (const auto* p : l->params()) n += p->value.size();
  return n;
}

std::string Model::summary() const {
  // Keras's layout: fields end at columns 29, 55 and 65, long ones cut, one space kept between.
  auto row = [](const std::string& a, const std::string& b, const std::string& c) {
    std::string line;
    const std::size_t ends[] = {29, 55, 65};
    const std::string fields[] = {a, b, c};
    for (int i = 0; i < 3; ++i) {
      if (i > 0) line.back() = ' ';
      line = (line + fields[i]).substr(0, ends[i]);
      line.resize(ends[i], ' ');
    }
    return line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
  };
  std::string s = std::string(65, '_') + "\n" + row("Layer (type)", "Output Shape", "Param #") + std::string(65, '=') + "\n";
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::size_t n = 0;
    for (const auto* p : layers[i]->params()) n += p->value.size();
    s += row(layers[i]->name + " (" + layers[i]->type() + ")", shape_text(layers[i]->out_shape), std::to_string(n));
    s += std::string(65, i + 1 == layers.size() ? '=' : '_') + "\n";
  }
  s += "Total params: " + with_commas(param_count()) + "\nTrainable params: " + with_commas(param_count()) +
       "\nNon-trainable params: 0\n" + std::string(65, '_') + "\n";
  return s;
}

std::string Model::config() const {
  YAML::Emitter e;
  e << YAML::BeginMap << YAML::Key << "input" << YAML::Value << YAML::Flow << input << YAML::Key << "layers"
    << YAML::Value << spec << YAML::EndMap;
  return e.c_str();
}

Model Model::from_config(const std::string& yaml) {
  YAML::Node n = YAML::Load(yaml);
  return build(n["layers"], n["input"].as<Shape>());
}

void Model::save(Outputs& out, const std::string& port) const {
  for (const auto& l : layers)
    for (const auto* p : l->params()) {
      Tensor t = Tensor::zeros<float>(p->shape);
      std::memcpy(t.data<float>(), p->value.data(), p->value.size() * sizeof(float));
      out[port + "/" + l->name + "/" + p->name] = std::move(t);
    }
}

void Model::load(const std::vector<Tensor>& members, const std::vector<std::string>& names) {
  std::map<std::string, const Tensor*> by_name;
  for (std::size_t i = 0; i < members.size(); ++i) by_name[names[i]] = &members[i];
  for (auto& l : layers)
    for (auto* p : l->params()) {
      auto it = by_name.find(l->name + "/" + p->name);
      if (it == by_name.end()) throw std::runtime_error("weights have no " + l->name + "/" + p->name);
      if (it->second->shape != p->shape || it->second->dtype != DType::f32)
        throw std::runtime_error("weights " + l->name + "/" + p->name + " have shape " + shape_string(it->second->shape) +
                                 ", the model needs float32 " + shape_string(p->shape));
      std::memcpy(p->value.data(), it->second->data<float>(), p->value.size() * sizeof(float));
    }
}

Layer& Model::layer(const std::string& name) {
  std::string list;
  for (auto& l : layers) {
    if (l->name == name) return *l;
    list += (list.empty() ? "" : ", ") + l->name;
  }
  throw std::invalid_argument("no layer '" + name + "' (layers: " + list + ")");
}

}  // namespace untangle::nn
