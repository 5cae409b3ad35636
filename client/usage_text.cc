// UsageText and BashCompletion (command_line.h): the fixed text of certctl,
// with what depends on the vendors (shapes, flags, mask paths, exit codes)
// asked of them, so help never lists a vendor certctl does not have.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/command_line.h"
#include "client/text_layout.h"
#include "client/vendors/cli_vendor_registry.h"

namespace certbridge::cli {
namespace {

constexpr std::size_t kWidth = 80;
// The PARENT line has always been one column wider than the rest; scripts
// and docs may quote the help, so it keeps its breaks.
constexpr std::size_t kShapesWidth = kWidth + 1;

constexpr char kHead[] =
    R"(certctl: manage certificates through a certbridge server.

Usage:
  certctl get NAME
  certctl list PARENT [--filter=EXPR] [--order_by=FIELD] [--all]
  certctl create PARENT --file=PATH [flags]
  certctl update NAME [flags] [--update_mask=PATH,...]
  certctl delete NAME [--jwk_delete_action=NULLIFY|DELETE]
  certctl version
  certctl completion bash   (e.g. source <(certctl completion bash))
  certctl help

)";

constexpr char kGlobalFlags[] = R"(
Global flags (before or after the command):
  --address=HOST:PORT   server address (default: $CERTCTL_ADDRESS, else
                        127.0.0.1:50051)
  --timeout=DURATION    RPC deadline, e.g. 30s, 2m, 500ms (default 30s)
  --x_request_id=ID     sent as x-request-id metadata (shows in server logs)
  --output=FORMAT       json, yaml, table or name (the resource name alone);
                        default: table on a terminal, json otherwise
  --tls_ca_file=PEM     connect with TLS, trusting this CA
  --tls_cert_file=PEM --tls_key_file=PEM
                        client certificate for mTLS

)";

constexpr char kList[] = R"(List:
  --filter=EXPR         e.g. --filter='expire_time < "2027-01-01T00:00:00Z"'
                        (<, <=, >, >= on expire_time, joined with AND)
  --order_by=FIELD      name (default) or expire_time, optionally "desc"
  --page_size=N         certificates per page (server default 50, at most
                        1000)
  --page_token=TOKEN    continue where an earlier list stopped (same
                        --filter and --order_by)
  --all                 follow the pages to the end and print them as one
  A backend whose vendor has no full list lists part of its certificates
  (see its section below).

)";

constexpr char kCreate[] = R"(Create:
  --request_id=UUID     makes a retried create return the first outcome.
                        Without it certctl makes one and prints it on stderr:
                        repeat a create that failed with the same one.

)";

constexpr char kOutputAndExitCodes[] = R"(
Output: the certificate (or delete or list response) on stdout, with proto
field names. File bytes and passkeys are never printed. Errors go to stderr.

Exit codes:
  0  success
  1  the call failed otherwise (e.g. CANCELLED)
  2  usage or local error: nothing was sent (bad flags, unreadable file)
  3  NOT_FOUND
  4  INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE: fix the request
  5  ALREADY_EXISTS, ABORTED: a conflict; read again
  6  PERMISSION_DENIED, UNAUTHENTICATED
  7  UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED: try again later
     (a create with the same --request_id)
  8  INTERNAL, UNKNOWN, DATA_LOSS, UNIMPLEMENTED: a server or backend failure
)";

// "NAME is ... or ...\nPARENT is ... or ...\n", wrapped.
std::string Shapes(const CliVendorRegistry& vendors) {
  std::vector<std::string> names;
  std::vector<std::string> parents;
  for (const auto& v : vendors.vendors()) {
    names.push_back(
        absl::StrCat(v->name_pattern(), " (", v->Help().product, ")"));
    parents.push_back(
        absl::StrCat(v->parent_pattern(), " (", v->display_name(), ")"));
  }
  return absl::StrCat(
      WrapParagraph("", absl::StrCat("NAME is ", JoinAlternatives(names), "."),
                    kShapesWidth),
      WrapParagraph("",
                    absl::StrCat("PARENT is ", JoinAlternatives(parents),
                                 ". The shape decides which flags apply."),
                    kShapesWidth));
}

std::string Update(const CliVendorRegistry& vendors) {
  std::vector<std::string> examples;
  std::vector<std::string> file_masks;
  for (const auto& v : vendors.vendors()) {
    CliVendorHelp help = v->Help();
    examples.push_back(std::move(help.mask_example));
    // A vendor that takes no file has nothing to say here.
    if (!help.file_mask.empty()) {
      file_masks.push_back(std::move(help.file_mask));
    }
  }
  examples.emplace_back("or *");
  std::string text =
      absl::StrCat("fields to change, e.g. ", absl::StrJoin(examples, ", "),
                   ". Default: the fields whose flags are given");
  if (!file_masks.empty()) {
    absl::StrAppend(&text, " (--file adds ", absl::StrJoin(file_masks, ", or "),
                    ")");
  }
  return absl::StrCat("Update:\n", WrapParagraph("  --update_mask=P1,P2   ",
                                                 text + ".", kWidth));
}

}  // namespace

std::string UsageText() { return UsageText(BuiltinCliVendors()); }

std::string UsageText(const CliVendorRegistry& vendors) {
  std::string text = absl::StrCat(kHead, Shapes(vendors), kGlobalFlags);
  for (const auto& v : vendors.vendors()) {
    absl::StrAppend(&text, v->Help().flags, "\n");
  }
  absl::StrAppend(&text, kList, kCreate, Update(vendors), kOutputAndExitCodes);
  for (const auto& v : vendors.vendors()) {
    for (const ExitCodeHelp& code : v->Help().exit_codes) {
      absl::StrAppend(&text, WrapParagraph(absl::StrCat("  ", code.code, "  "),
                                           code.meaning, kWidth));
    }
  }
  return text;
}

std::string BashCompletion() {
  return R"(# bash completion for certctl: source <(certctl completion bash)
_certctl() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local verbs="get list create update delete version completion help"
  local flags="--address= --timeout= --x_request_id= --output= --tls_ca_file=
    --tls_cert_file= --tls_key_file= --file= --file_name= --passkey_file=
    --passkey_env= --department_id= --enabled= --certificate_id= --alias=
    --description= --environments= --request_id= --update_mask=
    --jwk_update_action= --jwk_update_scope= --jwk_delete_action=
    --filter= --order_by= --page_size= --page_token= --all"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=( $(compgen -W "$verbs" -- "$cur") )
  elif [[ "$cur" == --output=* ]]; then
    COMPREPLY=( $(compgen -W "json yaml table name" -- "${cur#--output=}") )
  elif [[ "$cur" == --file=* || "$cur" == --passkey_file=* || "$cur" == --tls_*=* ]]; then
    COMPREPLY=( $(compgen -f -- "${cur#*=}") )
  else
    compopt -o nospace 2>/dev/null
    COMPREPLY=( $(compgen -W "$flags" -- "$cur") )
  fi
}
complete -F _certctl certctl
)";
}

}  // namespace certbridge::cli
