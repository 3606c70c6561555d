#include "tools/segflow/args.hpp"

#include <charconv>
#include <iostream>
#include <sstream>

namespace seg::cli {

arg_parser::arg_parser(std::string usage, std::string summary)
  : usage_(std::move(usage)), summary_(std::move(summary)) {
  // nop
}

void arg_parser::flag(const std::string& name, bool* out, const std::string& help) {
  specs_.push_back({name, "", help, [out](const std::string&) {
                      *out = true;
                      return std::string{};
                    }});
}

void arg_parser::option(const std::string& name, std::string* out,
                        const std::string& metavar, const std::string& help) {
  specs_.push_back({name, metavar, help, [out](const std::string& v) {
                      *out = v;
                      return std::string{};
                    }});
}

void arg_parser::option(const std::string& name, std::int64_t* out,
                        const std::string& metavar, const std::string& help,
                        std::int64_t min, std::int64_t max) {
  specs_.push_back(
    {name, metavar, help, [out, min, max](const std::string& v) {
       std::int64_t x = 0;
       auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
       if (ec != std::errc{} || end != v.data() + v.size())
         return "expects an integer, got '" + v + "'";
       if (x < min || x > max)
         return "must be in [" + std::to_string(min) + ", " + std::to_string(max)
                + "], got " + v;
       *out = x;
       return std::string{};
     }});
}

void arg_parser::repeated(const std::string& name, std::vector<std::string>* out,
                          const std::string& metavar, const std::string& help) {
  specs_.push_back({name, metavar, help, [out](const std::string& v) {
                      out->push_back(v);
                      return std::string{};
                    }});
}

void arg_parser::alias(char c, const std::string& name) {
  aliases_.emplace_back(c, name);
}

void arg_parser::positionals(std::vector<std::string>* out, const std::string& metavar,
                             std::size_t min_count) {
  positionals_ = out;
  positional_metavar_ = metavar;
  positional_min_ = min_count;
}

std::string arg_parser::help() const {
  std::ostringstream os;
  os << "usage: " << usage_ << "\n\n" << summary_ << "\n";
  if (!specs_.empty())
    os << "\noptions:\n";
  for (auto& s : specs_) {
    std::string left = "  --" + s.name + (s.metavar.empty() ? "" : " " + s.metavar);
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    for (auto& [c, name] : aliases_)
      if (name == s.name)
        left = "  -" + std::string(1, c) + ", " + left.substr(2);
    os << left << s.help << "\n";
  }
  os << "  -h, --help                  show this help\n";
  return os.str();
}

int arg_parser::parse(int argc, char** argv, int first) {
  auto fail = [&](const std::string& what) {
    std::cerr << "error: " << what << "\n\n" << "usage: " << usage_
              << "\n(see --help)\n";
    return exit_usage;
  };
  bool options_done = false;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (!options_done && (arg == "-h" || arg == "--help")) {
      std::cout << help();
      return -1;
    }
    if (!options_done && arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      for (auto& [c, name] : aliases_)
        if (c == arg[1])
          arg = "--" + name;
    }
    if (!options_done && arg == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      auto eq = arg.find('=');
      std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      const spec* match = nullptr;
      for (auto& s : specs_)
        if (s.name == name)
          match = &s;
      if (match == nullptr)
        return fail("unknown option --" + name);
      std::string value;
      if (match->metavar.empty()) {
        if (eq != std::string::npos)
          return fail("option --" + name + " takes no value");
      } else if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return fail("option --" + name + " needs a value (" + match->metavar + ")");
      }
      if (auto err = match->apply(value); !err.empty())
        return fail("--" + name + " " + err);
      continue;
    }
    if (positionals_ == nullptr)
      return fail("unexpected argument '" + arg + "'");
    positionals_->push_back(arg);
  }
  if (positionals_ != nullptr && positionals_->size() < positional_min_)
    return fail("missing " + positional_metavar_);
  return exit_ok;
}

} // namespace seg::cli
