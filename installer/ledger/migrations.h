#pragma once
// The ledger's schema versions (schema.h holds the SQL): recognising a
// ledger and bringing an older one to the current schema.

#include <sqlite3.h>

#include "core/base/error.h"

namespace airlock::installer::migrations {

// Refuses anything that is not an airlock ledger of schema version 1 to
// schema::k_version: kCorruption (not a ledger) or kUnsupported (newer).
Status check_is_ledger(sqlite3* db);
// Brings an older ledger to the current schema in one transaction; a
// current one is left as it is.
Status upgrade_schema(sqlite3* db);

}  // namespace airlock::installer::migrations
