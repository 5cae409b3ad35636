#include "client/command_line.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/vendors/cli_vendor_registry.h"

namespace certbridge::cli {
namespace {

absl::Status Usage(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// Every flag certctl knows: one per field of Command. Which ones a command
// accepts besides the global ones is its vendor's to say (CliVendor::FlagsFor).
const std::set<std::string>& KnownFlags() {
  static const auto* const kFlags =
      new std::set<std::string>{"address",
                                "timeout",
                                "x_request_id",
                                "output",
                                "tls_ca_file",
                                "tls_cert_file",
                                "tls_key_file",
                                "passkey_file",
                                "passkey_env",
                                "file",
                                "file_name",
                                "department_id",
                                "enabled",
                                "description",
                                "alias",
                                "environments",
                                "certificate_id",
                                "request_id",
                                "update_mask",
                                "jwk_update_action",
                                "jwk_update_scope",
                                "jwk_delete_action",
                                "filter",
                                "order_by",
                                "page_size",
                                "page_token",
                                "all"};
  return *kFlags;
}

// `certctl list` takes the same flags whatever the vendor: the server
// filters, orders and pages every vendor's list alike.
const std::set<std::string>& ListFlags() {
  static const auto* const kFlags = new std::set<std::string>{
      "filter", "order_by", "page_size", "page_token", "all"};
  return *kFlags;
}

const std::set<std::string>& GlobalFlags() {
  static const auto* const kFlags = new std::set<std::string>{
      "address",     "timeout",       "x_request_id", "output",
      "tls_ca_file", "tls_cert_file", "tls_key_file"};
  return *kFlags;
}

absl::string_view VerbName(Verb verb) {
  switch (verb) {
    case Verb::kHelp:
      return "help";
    case Verb::kVersion:
      return "version";
    case Verb::kCompletion:
      return "completion";
    case Verb::kGet:
      return "get";
    case Verb::kCreate:
      return "create";
    case Verb::kUpdate:
      return "update";
    case Verb::kDelete:
      return "delete";
    case Verb::kList:
      return "list";
  }
  return "?";
}

std::optional<Verb> ParseVerb(absl::string_view word) {
  if (word == "help") return Verb::kHelp;
  if (word == "version") return Verb::kVersion;
  if (word == "completion") return Verb::kCompletion;
  if (word == "get") return Verb::kGet;
  if (word == "create") return Verb::kCreate;
  if (word == "update") return Verb::kUpdate;
  if (word == "delete") return Verb::kDelete;
  if (word == "list") return Verb::kList;
  return std::nullopt;
}

// Splits "a, b,,c" into {"a", "b", "c"}.
std::vector<std::string> SplitList(absl::string_view value) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& value) {
  absl::Duration d;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    d = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(value, &d)) {
    return Usage(absl::StrCat("--timeout: \"", value,
                              "\" is not a duration (e.g. 30s, 2m, 500ms)"));
  }
  if (d <= absl::ZeroDuration()) {
    return Usage("--timeout must be positive");
  }
  return d;
}

// Accepts the enum value's full name or its short form without `prefix`
// (e.g. "UPDATE" for JWK_UPDATE_ACTION_UPDATE), in any case.
template <typename Enum>
absl::StatusOr<Enum> ParseEnumFlag(absl::string_view flag,
                                   const std::string& value,
                                   absl::string_view prefix,
                                   bool (*parse)(const std::string&, Enum*),
                                   absl::string_view choices) {
  const std::string upper = absl::AsciiStrToUpper(value);
  Enum result{};
  if ((parse(upper, &result) || parse(absl::StrCat(prefix, upper), &result)) &&
      static_cast<int>(result) != 0) {
    return result;
  }
  return Usage(
      absl::StrCat("--", flag, ": \"", value, "\" is not one of ", choices));
}

constexpr char kPasskeyFlagMessage[] =
    "--passkey is not supported: a passkey on the command line is visible to "
    "other users through `ps` and is kept in shell history. Use "
    "--passkey_file=PATH, --passkey_env=VAR, or give neither to be prompted "
    "on the terminal";

}  // namespace

absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args) {
  return ParseCommandLine(args, BuiltinCliVendors());
}

absl::StatusOr<Command> ParseCommandLine(const std::vector<std::string>& args,
                                         const CliVendorRegistry& vendors) {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positional;
  bool help_flag = false;
  bool version_flag = false;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (flags_done || !absl::StartsWith(arg, "-") || arg == "-") {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help_flag = true;
      continue;
    }
    // What every other binary answers to.
    if (arg == "--version") {
      version_flag = true;
      continue;
    }
    // Like absl flags, one or two dashes. Error messages below name the flag
    // but never echo its value (it could be a secret typed by mistake).
    absl::string_view body = arg;
    if (!absl::ConsumePrefix(&body, "--")) absl::ConsumePrefix(&body, "-");
    std::string name;
    std::string value;
    const size_t eq = body.find('=');
    const bool has_value = eq != absl::string_view::npos;
    name = std::string(has_value ? body.substr(0, eq) : body);
    // Checked before anything else, so the value is never echoed back.
    if (name == "passkey" || name == "password") {
      return Usage(kPasskeyFlagMessage);
    }
    if (KnownFlags().count(name) == 0) {
      return Usage(absl::StrCat("unknown flag --", name,
                                "; run `certctl help` for the flags"));
    }
    if (has_value) {
      value = std::string(body.substr(eq + 1));
    } else if (name == "all") {
      value = "true";  // the one switch: --all alone means --all=true
    } else {
      if (i + 1 >= args.size()) {
        return Usage(absl::StrCat("--", name, " needs a value"));
      }
      value = args[++i];
    }
    if (!flags.emplace(name, std::move(value)).second) {
      return Usage(absl::StrCat("--", name, " is given more than once"));
    }
  }

  Command command;
  if (help_flag) {
    command.verb = Verb::kHelp;
    return command;
  }
  if (version_flag) {
    command.verb = Verb::kVersion;
    return command;
  }
  if (positional.empty()) {
    return Usage("no command given; run `certctl help`");
  }
  auto verb = ParseVerb(positional[0]);
  if (!verb) {
    return Usage(absl::StrCat("unknown command \"", positional[0],
                              "\"; commands are get, list, create, update, "
                              "delete, version, completion, help"));
  }
  command.verb = *verb;
  const size_t want_positional =
      command.verb == Verb::kHelp || command.verb == Verb::kVersion ? 1 : 2;
  if (positional.size() < want_positional) {
    return Usage(absl::StrCat(
        "`certctl ", VerbName(command.verb), "` needs ",
        command.verb == Verb::kCreate || command.verb == Verb::kList
            ? "a PARENT"
        : command.verb == Verb::kCompletion ? "a shell (bash)"
                                            : "a NAME"));
  }
  if (positional.size() > want_positional) {
    return Usage(absl::StrCat("unexpected argument \"",
                              positional[want_positional], "\""));
  }
  if (command.verb == Verb::kCompletion) {
    if (positional[1] != "bash") {
      return Usage("`certctl completion` supports bash");
    }
    command.target = positional[1];
  } else if (command.verb != Verb::kHelp && command.verb != Verb::kVersion) {
    command.target = positional[1];
    auto vendor = command.verb == Verb::kCreate || command.verb == Verb::kList
                      ? vendors.VendorOfParent(command.target)
                      : vendors.VendorOfName(command.target);
    if (!vendor.ok()) return vendor.status();
    command.vendor = *vendor;
  }

  // Reject flags that do not apply before interpreting any value.
  std::set<std::string> allowed = command.vendor == nullptr
                                      ? std::set<std::string>{}
                                      : command.vendor->FlagsFor(command.verb);
  if (command.verb == Verb::kList) {
    allowed.insert(ListFlags().begin(), ListFlags().end());
  }
  for (const auto& [name, value] : flags) {
    if (GlobalFlags().count(name) != 0 || allowed.count(name) != 0) continue;
    if (command.verb == Verb::kHelp || command.verb == Verb::kGet ||
        command.verb == Verb::kList || command.verb == Verb::kVersion ||
        command.verb == Verb::kCompletion) {
      return Usage(absl::StrCat("--", name, " does not apply to `certctl ",
                                VerbName(command.verb), "`"));
    }
    return Usage(absl::StrCat("--", name, " does not apply to `certctl ",
                              VerbName(command.verb), "` on a ",
                              command.vendor->display_name(), " resource (",
                              command.target, ")"));
  }

  auto take = [&flags](const char* name) -> std::optional<std::string> {
    auto it = flags.find(name);
    if (it == flags.end()) return std::nullopt;
    return it->second;
  };

  if (auto v = take("address")) {
    if (v->empty()) return Usage("--address must not be empty");
    command.address = *v;
  }
  if (auto v = take("timeout")) {
    auto timeout = ParseTimeout(*v);
    if (!timeout.ok()) return timeout.status();
    command.timeout = *timeout;
  }
  if (auto v = take("x_request_id")) command.x_request_id = *v;
  if (auto v = take("output")) {
    auto format = ParseOutputFormat(*v);
    if (!format.ok()) return Usage(format.status().message());
    command.output = *format;
  }
  command.tls_ca_file = take("tls_ca_file");
  command.tls_cert_file = take("tls_cert_file");
  command.tls_key_file = take("tls_key_file");
  if (command.tls_cert_file.has_value() != command.tls_key_file.has_value()) {
    return Usage("--tls_cert_file and --tls_key_file go together");
  }
  if (command.tls_cert_file && !command.tls_ca_file) {
    return Usage("a client certificate needs --tls_ca_file (TLS)");
  }
  command.passkey_file = take("passkey_file");
  command.passkey_env = take("passkey_env");
  if (command.passkey_file && command.passkey_env) {
    return Usage("give at most one of --passkey_file and --passkey_env");
  }
  if (command.passkey_file && command.passkey_file->empty()) {
    return Usage("--passkey_file must name a file");
  }
  if (command.passkey_env && command.passkey_env->empty()) {
    return Usage("--passkey_env must name an environment variable");
  }
  command.file = take("file");
  if (command.file && command.file->empty()) {
    return Usage("--file must name a file");
  }
  command.file_name = take("file_name");
  command.department_id = take("department_id");
  if (auto v = take("enabled")) {
    const std::string lower = absl::AsciiStrToLower(*v);
    if (lower == "true") {
      command.enabled = true;
    } else if (lower == "false") {
      command.enabled = false;
    } else {
      return Usage(
          absl::StrCat("--enabled must be true or false, not \"", *v, "\""));
    }
  }
  command.description = take("description");
  command.alias = take("alias");
  if (auto v = take("environments")) command.environments = SplitList(*v);
  if (auto v = take("certificate_id")) command.certificate_id = *v;
  if (auto v = take("request_id")) command.request_id = *v;
  if (auto v = take("update_mask")) {
    command.update_mask = SplitList(*v);
    if (command.update_mask->empty()) {
      return Usage("--update_mask needs at least one field path");
    }
  }
  if (auto v = take("jwk_update_action")) {
    auto e = ParseEnumFlag<v1::JwkUpdateAction>(
        "jwk_update_action", *v, "JWK_UPDATE_ACTION_",
        &v1::JwkUpdateAction_Parse, "NULLIFY, UPDATE");
    if (!e.ok()) return e.status();
    command.jwk_update_action = *e;
  }
  if (auto v = take("jwk_update_scope")) {
    auto e = ParseEnumFlag<v1::JwkUpdateScope>("jwk_update_scope", *v, "",
                                               &v1::JwkUpdateScope_Parse,
                                               "SAME_PROJECT, ALL_PROJECTS");
    if (!e.ok()) return e.status();
    command.jwk_update_scope = *e;
  }
  if (auto v = take("jwk_delete_action")) {
    auto e = ParseEnumFlag<v1::JwkDeleteAction>(
        "jwk_delete_action", *v, "JWK_DELETE_ACTION_",
        &v1::JwkDeleteAction_Parse, "NULLIFY, DELETE");
    if (!e.ok()) return e.status();
    command.jwk_delete_action = *e;
  }

  if (auto v = take("filter")) command.filter = *v;
  if (auto v = take("order_by")) command.order_by = *v;
  if (auto v = take("page_token")) command.page_token = *v;
  if (auto v = take("page_size")) {
    if (!absl::SimpleAtoi(*v, &command.page_size) || command.page_size < 0) {
      return Usage("--page_size must be a whole number, 0 or more");
    }
  }
  if (auto v = take("all")) {
    const std::string lower = absl::AsciiStrToLower(*v);
    if (lower != "true" && lower != "false") {
      return Usage("--all takes no value (or true/false)");
    }
    command.all = lower == "true";
  }

  // Cross-flag rules.
  if ((command.passkey_file || command.passkey_env) && !command.file) {
    return Usage(
        "--passkey_file / --passkey_env open the PKCS#12 given with --file; "
        "give --file too");
  }
  if (command.file_name && !command.file) {
    return Usage(
        "--file_name names the upload given with --file; give --file "
        "too");
  }
  if (command.vendor == nullptr) return command;  // no resource named
  if (command.verb == Verb::kCreate && !command.file &&
      !command.vendor->create_file().empty()) {
    return Usage(absl::StrCat("`certctl create` needs --file=PATH (",
                              command.vendor->create_file(), ")"));
  }
  if (auto s = command.vendor->CheckCommand(command); !s.ok()) return s;
  return command;
}

std::string ResolveAddress(const Command& command, const char* env_address) {
  if (command.address) return *command.address;
  if (env_address != nullptr && env_address[0] != '\0') return env_address;
  return kDefaultAddress;
}

bool NeedsPasskey(const Command& command) {
  return command.vendor != nullptr && command.vendor->NeedsPasskey(command);
}

}  // namespace certbridge::cli
