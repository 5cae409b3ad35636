#include "tests/emulator/fault_injector.h"

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace certbridge::emulator {
namespace {

absl::StatusOr<FaultSpec> FaultFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("a fault must be a JSON object");
  }
  FaultSpec f;
  for (const auto& [key, value] : j.items()) {
    // A structured binding cannot be captured in C++17 (clang refuses it).
    auto want = [&k = key](bool ok, const char* type) -> absl::Status {
      if (ok) return absl::OkStatus();
      return absl::InvalidArgumentError(
          absl::StrCat("fault field '", k, "' must be ", type));
    };
    absl::Status s;
    if (key == "method") {
      s = want(value.is_string(), "a string");
      if (s.ok()) f.method = value.get<std::string>();
    } else if (key == "path_prefix") {
      s = want(value.is_string(), "a string");
      if (s.ok()) f.path_prefix = value.get<std::string>();
    } else if (key == "times") {
      s = want(value.is_number_integer(), "an integer");
      if (s.ok()) f.times = value.get<int>();
    } else if (key == "status") {
      s = want(value.is_number_integer(), "an integer");
      if (s.ok()) f.status = value.get<int>();
    } else if (key == "body") {
      // A JSON value other than a string is sent serialized.
      f.body = value.is_string() ? value.get<std::string>() : value.dump();
    } else if (key == "headers") {
      if (value.is_object()) {
        for (const auto& [name, v] : value.items()) {
          if (!v.is_string()) {
            s = want(false, "an object of strings");
            break;
          }
          f.headers.emplace_back(name, v.get<std::string>());
        }
      } else if (value.is_array()) {
        for (const auto& pair : value) {
          if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() ||
              !pair[1].is_string()) {
            s = want(false, "[[name, value], ...]");
            break;
          }
          f.headers.emplace_back(pair[0].get<std::string>(),
                                 pair[1].get<std::string>());
        }
      } else {
        s = want(false, "an object or [[name, value], ...]");
      }
    } else if (key == "delay_ms") {
      s = want(value.is_number_integer(), "an integer");
      if (s.ok()) f.delay_ms = value.get<int>();
    } else if (key == "reset") {
      s = want(value.is_boolean(), "a boolean");
      if (s.ok()) f.reset = value.get<bool>();
    } else if (key == "reset_after_apply") {
      s = want(value.is_boolean(), "a boolean");
      if (s.ok()) f.reset_after_apply = value.get<bool>();
    } else if (key == "malformed") {
      s = want(value.is_boolean(), "a boolean");
      if (s.ok()) f.malformed = value.get<bool>();
    } else if (key == "hold") {
      s = want(value.is_boolean(), "a boolean");
      if (s.ok()) f.hold = value.get<bool>();
    } else if (key == "hold_after_apply") {
      s = want(value.is_boolean(), "a boolean");
      if (s.ok()) f.hold_after_apply = value.get<bool>();
    } else {
      s = absl::InvalidArgumentError(
          absl::StrCat("unknown fault field '", key, "'"));
    }
    if (!s.ok()) return s;
  }
  if (f.times == 0 || f.times < -1) {
    return absl::InvalidArgumentError("'times' must be positive or -1");
  }
  if (f.status != 0 && (f.status < 100 || f.status > 599)) {
    return absl::InvalidArgumentError("'status' must be 0 or 100..599");
  }
  if (f.delay_ms < 0) {
    return absl::InvalidArgumentError("'delay_ms' must not be negative");
  }
  return f;
}

}  // namespace

absl::StatusOr<std::vector<FaultSpec>> ParseFaultSpecs(absl::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return absl::InvalidArgumentError("invalid JSON");
  std::vector<FaultSpec> out;
  if (j.is_array()) {
    for (const auto& item : j) {
      absl::StatusOr<FaultSpec> f = FaultFromJson(item);
      if (!f.ok()) return f.status();
      out.push_back(*std::move(f));
    }
    return out;
  }
  absl::StatusOr<FaultSpec> f = FaultFromJson(j);
  if (!f.ok()) return f.status();
  out.push_back(*std::move(f));
  return out;
}

void FaultInjector::Add(FaultSpec fault) {
  if (fault.times == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultInjector::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::optional<FaultSpec> FaultInjector::Take(absl::string_view method,
                                             absl::string_view target) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!it->method.empty() && !absl::EqualsIgnoreCase(it->method, method)) {
      continue;
    }
    if (!absl::StartsWith(target, it->path_prefix)) continue;
    FaultSpec out = *it;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
    return out;
  }
  return std::nullopt;
}

std::size_t FaultInjector::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_.size();
}

}  // namespace certbridge::emulator
