// Thin RAII layer over libpq for the PostgreSQL store: a connection with its prepared
// statements, parameters bound by number, a query's rows, a transaction guard and a pool.
// Every value travels as a parameter of a prepared statement (PQprepare/PQexecPrepared),
// never inside the SQL text. A Connection is not thread-safe; the Pool hands each one to one
// thread at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.hpp"

struct pg_conn;
struct pg_result;

namespace provgate::store::postgres {

// The parameters of one statement, numbered from 1 like SQLite's ($1, $2, ...). Text and
// integers are sent as text, byte strings in binary; an unset number is NULL. Each carries
// its type (bigint, text, bytea; BindNull none), so a statement may leave one unused.
class Params {
 public:
  Params& BindInt(int index, std::int64_t value);
  Params& BindInt(int index, const std::optional<std::int64_t>& value);
  Params& BindText(int index, std::string_view value);
  Params& BindBlob(int index, const std::optional<std::vector<unsigned char>>& value);
  Params& BindNull(int index);

  int size() const { return static_cast<int>(values_.size()); }
  // libpq's parallel arrays; valid while this object is unchanged.
  std::vector<const char*> Values() const;
  std::vector<int> Lengths() const;
  std::vector<int> Formats() const { return formats_; }
  std::vector<unsigned> Types() const { return types_; }

 private:
  std::string& Slot(int index, int format, unsigned type);

  std::vector<std::optional<std::string>> values_;
  std::vector<int> formats_;     // 0 text, 1 binary
  std::vector<unsigned> types_;  // PostgreSQL type OIDs; 0 lets the server infer
};

// One row of a Rows, read by column number from 0. Text results: integers are parsed,
// bytea is unescaped.
class Row {
 public:
  Row(const pg_result* result, int row) : result_(result), row_(row) {}

  bool IsNull(int column) const;
  std::int64_t Int(int column) const;  // NULL or not a number reads as 0
  std::optional<std::int64_t> OptionalInt(int column) const;
  std::string Text(int column) const;  // NULL reads as ""
  std::optional<std::vector<unsigned char>> Blob(int column) const;

 private:
  const pg_result* result_;
  int row_;
};

// The rows a statement returned, or the count it changed.
class Rows {
 public:
  explicit Rows(pg_result* result);
  Rows(Rows&&) noexcept = default;
  Rows& operator=(Rows&&) noexcept = default;

  int size() const;
  bool empty() const { return size() == 0; }
  Row operator[](int row) const { return Row(result_.get(), row); }
  // Rows an INSERT/UPDATE/DELETE changed (or returned with RETURNING).
  std::int64_t Changed() const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

// Every row of `rows` read by `read` (a Row -> Result<T>), or the first error.
template <class T, class Reader>
Result<std::vector<T>> ReadAll(const Rows& rows, Reader read) {
  std::vector<T> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    PG_TRY(T item, read(rows[i]));
    out.push_back(std::move(item));
  }
  return out;
}

// Transactions this process has ended on PostgreSQL servers, all connections together: each
// statement run (or prepared) outside a transaction block (an implicit transaction), each
// COMMIT or ROLLBACK, each pipeline synced outside a block; a script of several statements
// counts once; read by the server's /metrics. Counted by
// the client as the server reports its transaction state, so unlike pg_stat_database it
// does not wait for the server's statistics to be flushed.
std::uint64_t TransactionsEnded();

// SQLSTATE classes the store turns into domain errors.
enum class Violation : std::uint8_t { kNone, kUnique, kForeignKey, kCheck };

class Connection {
 public:
  // Connects to `url` (a libpq connection URI or key=value string). The error names the
  // server libpq tried, never a password.
  static Result<Connection> Open(const std::string& url);
  // Open, with libpq connection parameters (keyword, value) that apply unless `url` sets
  // them itself, e.g. {"connect_timeout", "5"}.
  static Result<Connection> Open(const std::string& url,
                                 const std::vector<std::pair<std::string, std::string>>& defaults);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;

  // Runs `sql` as a prepared statement (prepared on first use on this connection) with
  // `params`. A failure is kUnavailable when the connection or the transaction could not go
  // on (lost connection, serialization failure, deadlock), kInvalidArgument for a violated
  // constraint (violation() says which), kInternal otherwise.
  Result<Rows> Exec(std::string_view sql, const Params& params = Params());
  // Exec, for a statement whose rows are not needed.
  Status Run(std::string_view sql, const Params& params = Params());
  // Runs `sql` once for each of `batch` (all with the same parameter types) in one round
  // trip (libpq's pipeline mode); the first failure, after which the rest do not run.
  // Inside a transaction, a failure aborts it.
  Status RunEach(std::string_view sql, const std::vector<Params>& batch);
  // Runs statements without parameters (DDL, BEGIN/COMMIT), several separated by ';'.
  Status ExecScript(std::string_view sql);
  // The constraint the last failed Exec violated.
  Violation violation() const { return violation_; }
  // False once the connection to the server is lost; the pool then drops it.
  bool Healthy() const;
  // For an idle connection that does not LISTEN: Healthy, and nothing arrived since its
  // last statement (never waits). False when the server has ended the session meanwhile,
  // e.g. by restarting or failing over.
  bool StillConnected();

  // For a connection that LISTENs and may sit idle for long: a round trip to the server
  // (SELECT 1), kUnavailable when no answer came within `limit` (a server or a network path
  // that vanished without closing the connection) or the connection failed. Notifications
  // that arrive meanwhile stay for TakeNotifications. After a failure, drop the connection.
  Status Ping(std::chrono::milliseconds limit);
  // For a connection that LISTENs: the socket to wait on, and the payloads of the
  // notifications that have arrived (reading what the socket holds, never waiting).
  // kUnavailable when the connection is lost.
  int Socket() const;
  Result<std::vector<std::string>> TakeNotifications();

 private:
  struct Finish {
    void operator()(pg_conn* c) const;
  };
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  // The name of `sql` prepared on this connection with the types of `params`.
  Result<std::string> Prepare(std::string_view sql, const Params& params);
  // Counts a transaction when the command just run left the connection outside a block.
  void CountIfTransactionEnded();
  Error Failure(pg_result* result, std::string_view context);

  std::unique_ptr<pg_conn, Finish> conn_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL → statement name
  Violation violation_ = Violation::kNone;
};

// BEGIN ... COMMIT on one connection; rolls back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}
  Connection* db_;
};

// At most `size` connections to one server, opened when first needed. Thread-safe.
// Acquire waits while all are lent out; a connection that lost the server is closed when it
// comes back or, if that happened while it was idle, when Acquire finds it closed; the next
// Acquire opens a new one, so the pool reconnects by itself after a server restart.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Connection> conn) : pool_(&pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // Opens the first connection at once, so a wrong URL fails at start-up. A non-empty
  // `origin` is set as provgate.origin on each connection (postgres::ChangeFeed).
  static Result<std::unique_ptr<Pool>> Open(std::string url, size_t size, std::string origin = "");
  Result<Lease> Acquire();

 private:
  Pool(std::string url, size_t size, std::string origin)
      : url_(std::move(url)), size_(size), origin_(std::move(origin)) {}
  Result<Connection> Connect() const;
  void GiveBack(std::unique_ptr<Connection> conn);

  const std::string url_;
  const size_t size_;
  const std::string origin_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  size_t open_ = 0;                                // lent out + idle; guarded by mu_
};

// The URL without its password, for messages an operator reads.
std::string RedactUrl(std::string_view url);

}  // namespace provgate::store::postgres
