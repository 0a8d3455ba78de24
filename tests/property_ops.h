// Deterministic ops for the engine's property test (tests/property_test.cpp) and the child
// process it kills (tests/property_child.cpp). Each op is a plain function of its inputs and
// params, so a fresh run and an incremental one must agree bit for bit. Several ops can give
// the same bytes for different params (clamp, round, const's tag), so a rerun often changes
// nothing and the run below it must stay cached.
#pragma once
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "pipeline/registry.h"

namespace untangle::test {

// Called at the start of every op with the instance's name: the test counts calls with it,
// the child process uses it to kill itself at a chosen call.
using CallHook = std::function<void(const std::string& instance)>;

namespace property_ops {

inline std::vector<double> values(const Tensor& t) {
  std::vector<double> v(t.size());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = t.at(i);
  return v;
}

inline Tensor tensor_of(const std::vector<double>& v) {
  Tensor t = Tensor::zeros<double>({v.size()});
  std::copy(v.begin(), v.end(), t.data<double>());
  return t;
}

inline ParamSpec number(const std::string& name, const char* def) {
  ParamSpec p{name, ParamType::number, "", def};
  p.min = -100;
  p.max = 100;
  return p;
}

inline ParamSpec integer(const std::string& name, const char* def, double lo, double hi) {
  ParamSpec p{name, ParamType::integer, "", def};
  p.min = lo;
  p.max = hi;
  return p;
}

// An op reading `x` that maps each value through f(value, ctx).
inline OpSchema elementwise(const std::string& name, std::vector<ParamSpec> params, const CallHook& hook,
                            std::function<double(double, const OpContext&)> f) {
  OpSchema op;
  op.name = name;
  op.inputs = {{"x", ""}};
  op.outputs = {{"y", ""}};
  op.params = std::move(params);
  op.run = [hook, f](OpContext& ctx) {
    hook(ctx.instance);
    auto v = values(ctx.input("x"));
    for (auto& x : v) x = f(x, ctx);
    return Outputs{{"y", tensor_of(v)}};
  };
  return op;
}

}  // namespace property_ops

inline Registry property_registry(const CallHook& hook) {
  using namespace property_ops;
  Registry r;

  OpSchema source;  // value, value + 1, … (n of them); tag is hashed but changes nothing
  source.name = "const";
  source.outputs = {{"y", ""}};
  source.params = {number("value", "1"), integer("n", "1", 0, 4), {"tag", ParamType::string, "", "a"}};
  source.run = [hook](OpContext& ctx) {
    hook(ctx.instance);
    std::vector<double> v(static_cast<std::size_t>(ctx.integer("n")));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = ctx.number("value") + static_cast<double>(i);
    return Outputs{{"y", tensor_of(v)}};
  };
  r.add(source);

  r.add(elementwise("scale", {number("factor", "2")}, hook,
                    [](double x, const OpContext& c) { return x * c.number("factor"); }));
  r.add(elementwise("offset", {number("by", "1")}, hook,
                    [](double x, const OpContext& c) { return x + c.number("by"); }));
  r.add(elementwise("clamp", {number("lo", "-1"), number("hi", "2")}, hook, [](double x, const OpContext& c) {
    return std::min(std::max(x, c.number("lo")), c.number("hi"));
  }));
  r.add(elementwise("round", {integer("digits", "0", 0, 3)}, hook, [](double x, const OpContext& c) {
    const double scale = std::pow(10.0, static_cast<double>(c.integer("digits")));
    return std::round(x * scale) / scale;
  }));

  OpSchema add;  // elementwise a + b, the shorter one repeated; without b, a unchanged
  add.name = "add";
  add.inputs = {{"a", ""}, {"b", "", true}};
  add.outputs = {{"y", ""}};
  add.run = [hook](OpContext& ctx) {
    hook(ctx.instance);
    const auto a = values(ctx.input("a"));
    const auto b = ctx.has("b") ? values(ctx.input("b")) : std::vector<double>{};
    std::vector<double> y(std::max(a.size(), b.size()));
    for (std::size_t i = 0; i < y.size(); ++i)
      y[i] = (a.empty() ? 0 : a[i % a.size()]) + (b.empty() ? 0 : b[i % b.size()]);
    return Outputs{{"y", tensor_of(y)}};
  };
  r.add(add);

  OpSchema gather;  // every instance of a swept input, concatenated, with their labels
  gather.name = "gather";
  gather.inputs = {{"x", "", false, true}};
  gather.outputs = {{"values", ""}, {"labels", ""}};
  gather.run = [hook](OpContext& ctx) {
    hook(ctx.instance);
    std::vector<double> all;
    for (const auto& t : ctx.inputs.at("x"))
      for (double v : values(t)) all.push_back(v);
    return Outputs{{"values", tensor_of(all)}, {"labels", Tensor::text(ctx.labels.at("x"))}};
  };
  r.add(gather);

  // A group output: the values below `cut` and the others, each a member only when it has
  // values, so the group's members vary and it may have none.
  OpSchema split;
  split.name = "split";
  split.inputs = {{"x", ""}};
  split.outputs = {{"parts", "", false, false, true}};
  split.params = {number("cut", "0")};
  split.run = [hook](OpContext& ctx) {
    hook(ctx.instance);
    std::vector<double> below, rest;
    for (double v : values(ctx.input("x"))) (v < ctx.number("cut") ? below : rest).push_back(v);
    Outputs out;
    if (!below.empty()) out["parts/below"] = tensor_of(below);
    if (!rest.empty()) out["parts/rest"] = tensor_of(rest);
    return out;
  };
  r.add(split);

  OpSchema merge;  // reads a group (or a single port): its members concatenated
  merge.name = "merge";
  merge.inputs = {{"g", ""}};
  merge.outputs = {{"y", ""}};
  merge.run = [hook](OpContext& ctx) {
    hook(ctx.instance);
    std::vector<double> all;
    const auto g = ctx.inputs.find("g");  // a group without members gives the port nothing
    if (g != ctx.inputs.end())
      for (const auto& t : g->second)
        for (double v : values(t)) all.push_back(v);
    return Outputs{{"y", tensor_of(all)}};
  };
  r.add(merge);
  return r;
}

}  // namespace untangle::test
