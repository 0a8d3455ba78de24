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

std::unique_ptr<Layer> make_layer(const std::string& type, const YAML::Node& a) {
  auto size = [&](const char* key) { return a[key].as<std::size_t>(); };
  auto act = [&](const char* key) { return parse_act(a[key].as<std::string>()); };
  if (type == "dense") return std::make_unique<Dense>(size("units"), act("activation"), parse_init(a["init"].as<std::string>()));
  if (type == "conv2d")
    return std::make_unique<Conv2D>(size("filters"), a["kernel"][0].as<std::size_t>(), a["kernel"][1].as<std::size_t>(),
                                    size("stride"), a["padding"].as<std::string>() == "same", act("activation"),
                                    parse_init(a["init"].as<std::string>()));
  if (type == "maxpool2d") return std::make_unique<MaxPool2D>(size("pool"), size("stride"));
  if (type == "flatten") return std::make_unique<Flatten>();
  if (type == "activation") return std::make_unique<Activation>(act("fn"));
  if (type == "dropout") return std::make_unique<Dropout>(a["rate"].as<double>());
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

ParamSpec Model::schema() {
  auto positive = [](const char* name, const char* doc, std::optional<std::string> dflt) {
    ParamSpec p{name, ParamType::integer, doc, dflt};
    p.min = 1;
    return p;
  };
  ParamSpec act{"activation", ParamType::choice, "applied to the layer's output", "linear"};
  act.choices = {"linear", "sigmoid", "relu", "tanh", "softmax"};
  ParamSpec init{"init", ParamType::choice, "how the kernel starts (biases start at zero)", "glorot_uniform"};
  init.choices = {"glorot_uniform", "he_uniform", "he_normal", "zeros"};
  ParamSpec name{"name", ParamType::string, "the layer's name (Keras's default: type_N)", std::nullopt};
  name.optional = true;
  ParamSpec kernel{"kernel", ParamType::list, "height and width", std::nullopt};
  kernel.length = 2;
  kernel.items = {positive("size", "pixels", std::nullopt)};
  ParamSpec padding{"padding", ParamType::choice, "same keeps the image size; valid only uses whole windows", "valid"};
  padding.choices = {"same", "valid"};
  ParamSpec stride = positive("stride", "window step; default: the pool size", std::nullopt);
  stride.optional = true;
  ParamSpec fn = act;
  fn.name = "fn";
  fn.default_value.reset();
  ParamSpec rate{"rate", ParamType::number, "fraction of inputs zeroed while training", "0.5"};
  rate.min = 0, rate.max = 1, rate.max_open = true;

  auto layer = [&](const char* type, const char* doc, std::vector<ParamSpec> fields) {
    ParamSpec p{type, ParamType::record, doc, std::nullopt};
    p.fields = std::move(fields);
    p.fields.push_back(name);
    return p;
  };
  ParamSpec maxpool = layer("maxpool2d", "max pooling", {positive("pool", "window size", "2"), stride});
  maxpool.complete = [](YAML::Node& a) {
    if (!a["stride"]) a["stride"] = YAML::Clone(a["pool"]);
  };
  ParamSpec any_layer{"layer", ParamType::variant, "a layer type, or {type: {settings}}", std::nullopt};
  any_layer.fields = {
      layer("dense", "fully connected", {positive("units", "outputs", std::nullopt), act, init}),
      layer("conv2d", "2-D convolution",
            {positive("filters", "output channels", std::nullopt), kernel, positive("stride", "window step", "1"), padding, act, init}),
      maxpool,
      layer("flatten", "to one axis per sample", {}),
      layer("activation", "a function applied element-wise", {fn}),
      layer("dropout", "inverted dropout while training", {rate})};

  ParamSpec model{"model", ParamType::list, "the layers, e.g. [flatten, {dense: {units: 10, activation: softmax}}]",
                  std::nullopt};
  model.min = 1;
  model.items = {any_layer};
  // Keras's default names: the snake-case class name and a per-type counter from 1.
  model.complete = [](YAML::Node& layers) {
    std::map<std::string, int> counters;
    for (auto l : layers) {
      const std::string type = l.begin()->first.as<std::string>();
      YAML::Node a = l.begin()->second;
      if (!a["name"]) a["name"] = kKerasPrefix.at(type) + "_" + std::to_string(++counters[type]);
    }
  };
  return model;
}

Model Model::build(const YAML::Node& given, const Shape& input) {
  std::string error;
  const YAML::Node layers = canonical_param(schema(), given, error);
  if (!error.empty()) throw std::invalid_argument(error);
  Model m;
  m.input = input;
  m.spec = layers;
  std::map<std::string, bool> taken;
  Shape shape = input;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string type = layers[i].begin()->first.as<std::string>();
    const YAML::Node args = layers[i].begin()->second;
    try {
      auto layer = make_layer(type, args);
      const std::string name = args["name"].as<std::string>();
      if (taken[name]) throw std::invalid_argument("name '" + name + "' is used twice");
      taken[name] = true;
      layer->name = name;
      shape = layer->build(shape);
      m.layers.push_back(std::move(layer));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("model[" + std::to_string(i) + "]." + type + ": " + e.what());
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
