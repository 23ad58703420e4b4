#pragma once
// Brings ROOT back in line with the ledger, before every command (run once
// the command holds the site lock): the ledger is the truth.
//   1. staging is dropped (nothing there is ever live);
//   2. version directories the ledger does not record as installed (an
//      install that crashed between moving files into place and committing)
//      are removed;
//   3. deployments/NAME/current follows the ledger's active version;
//   4. the install targets are rebuilt when ROOT/targets.dirty says a
//      command stopped between changing the active version and rebuilding;
//   5. key rotations committed but not yet applied are settled
//      (admit/rotation.h).
// Each repair is logged as a "recover" event.

#include <string>
#include <vector>

#include "core/base/error.h"
#include "installer/site/site.h"

namespace airlock::installer {

struct Recovery {
  std::vector<std::string> repaired;  // a line per thing repaired
  // A repair that failed after the ledger's commit (the `current` switch,
  // the targets rebuild): not an error, since the ledger is the truth and
  // every command must still run; the next command retries it.
  std::vector<std::string> failures;
};

Result<Recovery> recover(Site& site);

}  // namespace airlock::installer
