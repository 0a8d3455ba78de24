#include "pipeline/results.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "pipeline/atomic_file.h"

namespace untangle {

namespace {

bool same_content(const std::string& path, const Tensor& t) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::vector<unsigned char> have((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return have == t.bytes;
}

// An instance's name as a path under the results directory. Its node part may hold '/' (an
// included graph's "manifold/plot" gets a directory); its sweep label is any text, so there '/'
// and '%' are percent-encoded: a value such as "../../x" names a file, never a place outside.
std::string file_name_of(const std::string& instance) {
  const auto open = instance.find('[');
  if (open == std::string::npos) return instance;
  std::string out = instance.substr(0, open);
  for (char c : instance.substr(open)) {
    if (c == '/') out += "%2F";
    else if (c == '%') out += "%25";
    else out += c;
  }
  return out;
}

}  // namespace

std::string default_results_dir(const Plan& plan) { return "results/" + plan.name; }

Results collect_results(const Plan& plan, const Store& store, const RunReport& report, const std::string& dir) {
  Results out;
  for (std::size_t i = 0; i < plan.instances.size(); ++i) {
    const NodeResult& r = report.nodes[i];
    if (r.outcome != Outcome::ran && r.outcome != Outcome::cached) continue;
    const Instance& inst = plan.instances[i];
    for (const auto& port : inst.outputs) {
      if (port.print) {
        const Tensor t = store.read(r.key, port.name);
        std::string text;
        for (const auto& line : t.strings) text += line + "\n";
        out.texts.push_back({inst.name + "." + port.name, text});
      }
      if (port.file.empty()) continue;
      const Tensor t = store.read(r.key, port.name);
      if (t.dtype != DType::u8)
        throw std::runtime_error(inst.name + "." + port.name + " should hold a file's bytes (u8), holds " + dtype_name(t.dtype));
      // An extension names the file after its instance; a whole name is used as it is.
      const bool whole = port.file.find('.') != std::string::npos;
      const std::string path = dir + "/" + (whole ? port.file : file_name_of(inst.name) + "." + port.file);
      if (!same_content(path, t)) {
        // An included graph's instances ("manifold/raw_pca_plot") get a directory of their own.
        std::filesystem::create_directories(std::filesystem::path(path).parent_path());
        write_file_atomically(path, std::string(t.bytes.begin(), t.bytes.end()));
      }
      out.files.push_back(path);
    }
  }
  return out;
}

}  // namespace untangle
