#include "store/postgres/connection.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <charconv>
#include <regex>

namespace provgate::store::postgres {

namespace {
std::atomic<std::uint64_t> g_transactions_ended{0};
}  // namespace

std::uint64_t TransactionsEnded() { return g_transactions_ended.load(std::memory_order_relaxed); }

void Connection::CountIfTransactionEnded() {
  if (PQtransactionStatus(conn_.get()) == PQTRANS_IDLE) g_transactions_ended.fetch_add(1, std::memory_order_relaxed);
}

// --- Params ---

namespace {
// pg_type OIDs of the parameter types the store binds.
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;
constexpr unsigned kByteaOid = 17;
}  // namespace

std::string& Params::Slot(int index, int format, unsigned type) {
  const auto i = static_cast<size_t>(index - 1);
  if (values_.size() <= i) {
    values_.resize(i + 1);
    formats_.resize(i + 1, 0);
    types_.resize(i + 1, 0);
  }
  formats_[i] = format;
  types_[i] = type;
  values_[i].emplace();
  return *values_[i];
}

Params& Params::BindInt(int index, std::int64_t value) {
  Slot(index, 0, kInt8Oid) = std::to_string(value);
  return *this;
}

Params& Params::BindInt(int index, const std::optional<std::int64_t>& value) {
  if (value) return BindInt(index, *value);
  Slot(index, 0, kInt8Oid);
  values_[static_cast<size_t>(index - 1)].reset();
  return *this;
}

Params& Params::BindText(int index, std::string_view value) {
  Slot(index, 0, kTextOid).assign(value);
  return *this;
}

Params& Params::BindBlob(int index, const std::optional<std::vector<unsigned char>>& value) {
  if (!value) {
    Slot(index, 1, kByteaOid);
    values_[static_cast<size_t>(index - 1)].reset();
    return *this;
  }
  Slot(index, 1, kByteaOid).assign(value->begin(), value->end());
  return *this;
}

Params& Params::BindNull(int index) {
  Slot(index, 0, 0);
  values_[static_cast<size_t>(index - 1)].reset();
  return *this;
}

std::vector<const char*> Params::Values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

std::vector<int> Params::Lengths() const {
  std::vector<int> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? static_cast<int>(v->size()) : 0);
  return out;
}

// --- Rows ---

bool Row::IsNull(int column) const { return PQgetisnull(result_, row_, column) != 0; }

std::int64_t Row::Int(int column) const { return OptionalInt(column).value_or(0); }

std::optional<std::int64_t> Row::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  const char* text = PQgetvalue(result_, row_, column);
  const char* end = text + PQgetlength(result_, row_, column);
  std::int64_t value = 0;
  if (std::from_chars(text, end, value).ec != std::errc()) return 0;
  return value;
}

std::string Row::Text(int column) const {
  if (IsNull(column)) return {};
  return {PQgetvalue(result_, row_, column), static_cast<size_t>(PQgetlength(result_, row_, column))};
}

std::optional<std::vector<unsigned char>> Row::Blob(int column) const {
  if (IsNull(column)) return std::nullopt;
  size_t length = 0;
  unsigned char* bytes =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row_, column)), &length);
  if (bytes == nullptr) return std::vector<unsigned char>();
  std::vector<unsigned char> out(bytes, bytes + length);
  PQfreemem(bytes);
  return out;
}

void Rows::Clear::operator()(pg_result* r) const { PQclear(r); }

Rows::Rows(pg_result* result) : result_(result) {}

int Rows::size() const { return PQntuples(result_.get()); }

std::int64_t Rows::Changed() const {
  const char* text = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

// --- Connection ---

namespace {

// The SQLSTATE classes whose statement may succeed when tried again: lost connection (08),
// serialization failure and deadlock (40), the server shutting down or out of resources
// (57P, 53).
bool IsTransient(std::string_view state) {
  return state.starts_with("08") || state.starts_with("40") || state.starts_with("57P") || state.starts_with("53");
}

Violation ViolationOf(std::string_view state) {
  if (state == "23505") return Violation::kUnique;
  if (state == "23503") return Violation::kForeignKey;
  if (state == "23514") return Violation::kCheck;
  return Violation::kNone;
}

std::string Trimmed(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

void Connection::Finish::operator()(pg_conn* c) const { PQfinish(c); }

Result<Connection> Connection::Open(const std::string& url) { return Open(url, {}); }

Result<Connection> Connection::Open(const std::string& url,
                                    const std::vector<std::pair<std::string, std::string>>& defaults) {
  // The defaults first, then the URL as "dbname" expanded: a later parameter overrides an
  // earlier one, so what the URL sets wins.
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [k, v] : defaults) {
    keywords.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keywords.push_back("dbname");
  values.push_back(url.c_str());
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  Connection conn(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!conn.conn_) return Error::Unavailable("PostgreSQL: out of memory opening a connection");
  if (PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return Error::Unavailable(
        fmt::format("PostgreSQL {}: cannot connect: {}", RedactUrl(url), Trimmed(PQerrorMessage(conn.conn_.get()))));
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(
      conn.conn_.get(), [](void*, const char*) {}, nullptr);
  PG_TRY_STATUS(conn.ExecScript("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'"));
  return conn;
}

bool Connection::Healthy() const { return conn_ && PQstatus(conn_.get()) == CONNECTION_OK; }

bool Connection::StillConnected() {
  if (!Healthy()) return false;
  // An idle session receives nothing unless the server is ending it: a FATAL message
  // ("terminating connection"), then the close. Anything readable, or a hang-up, means the
  // connection is gone or going.
  pollfd fd{.fd = PQsocket(conn_.get()), .events = POLLIN, .revents = 0};
  return ::poll(&fd, 1, 0) == 0;
}

int Connection::Socket() const { return PQsocket(conn_.get()); }

Status Connection::Ping(std::chrono::milliseconds limit) {
  pg_conn* c = conn_.get();
  const auto lost = [&] { return Error::Unavailable("PostgreSQL: connection lost: " + Trimmed(PQerrorMessage(c))); };
  if (!Healthy() || PQsendQuery(c, "SELECT 1") == 0) return lost();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  // Every result, up to the one that says the query is done (null), without ever letting
  // PQgetResult wait: it is asked only when PQisBusy says a result is complete.
  bool ok = true;
  for (;;) {
    if (PQflush(c) < 0 || PQconsumeInput(c) == 0) return lost();
    if (PQisBusy(c) == 0) {
      PGresult* r = PQgetResult(c);
      if (r == nullptr) break;
      ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
      PQclear(r);
      continue;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error::Unavailable(fmt::format("PostgreSQL: no answer to a ping within {} ms", limit.count()));
    }
    pollfd fd{.fd = PQsocket(c), .events = POLLIN, .revents = 0};
    (void)::poll(&fd, 1, static_cast<int>(left.count()));
  }
  CountIfTransactionEnded();
  if (!ok) return lost();
  return Ok();
}

Result<std::vector<std::string>> Connection::TakeNotifications() {
  if (PQconsumeInput(conn_.get()) == 0 || !Healthy()) {
    return Error::Unavailable("PostgreSQL: listening connection lost: " + Trimmed(PQerrorMessage(conn_.get())));
  }
  std::vector<std::string> payloads;
  while (PGnotify* n = PQnotifies(conn_.get())) {
    payloads.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return payloads;
}

Error Connection::Failure(pg_result* result, std::string_view context) {
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  violation_ = ViolationOf(state);
  const std::string detail =
      Trimmed(result && PQresultErrorMessage(result)[0] ? PQresultErrorMessage(result) : PQerrorMessage(conn_.get()));
  std::string message = fmt::format("PostgreSQL {}: {}", context, detail);
  if (violation_ != Violation::kNone) return Error::InvalidArgument(std::move(message));
  if (state.empty() || IsTransient(state) || !Healthy()) return Error::Unavailable(std::move(message));
  return Error::Internal(std::move(message));
}

Result<std::string> Connection::Prepare(std::string_view sql, const Params& params) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  std::string name = fmt::format("pg{}", prepared_.size() + 1);
  const auto types = params.Types();
  pg_result* prepared = PQprepare(conn_.get(), name.c_str(), std::string(sql).c_str(), params.size(), types.data());
  Rows guard(prepared);
  CountIfTransactionEnded();  // outside a block, the server commits the Parse as one
  if (prepared == nullptr || PQresultStatus(prepared) != PGRES_COMMAND_OK) {
    return Failure(prepared, fmt::format("preparing \"{}\"", sql));
  }
  prepared_.emplace(std::string(sql), name);
  return name;
}

Result<Rows> Connection::Exec(std::string_view sql, const Params& params) {
  violation_ = Violation::kNone;
  PG_TRY(std::string name, Prepare(sql, params));
  const auto values = params.Values();
  const auto lengths = params.Lengths();
  const auto formats = params.Formats();
  pg_result* result =
      PQexecPrepared(conn_.get(), name.c_str(), params.size(), values.data(), lengths.data(), formats.data(), 0);
  Rows rows(result);
  CountIfTransactionEnded();
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failure(result, fmt::format("running \"{}\"", sql));
  }
  return rows;
}

Status Connection::RunEach(std::string_view sql, const std::vector<Params>& batch) {
  violation_ = Violation::kNone;
  if (batch.empty()) return Ok();
  PG_TRY(std::string name, Prepare(sql, batch.front()));
  if (PQenterPipelineMode(conn_.get()) != 1) return Failure(nullptr, "entering pipeline mode");
  for (const Params& params : batch) {
    const auto values = params.Values();
    const auto lengths = params.Lengths();
    const auto formats = params.Formats();
    if (PQsendQueryPrepared(conn_.get(), name.c_str(), params.size(), values.data(), lengths.data(), formats.data(),
                            0) != 1) {
      break;  // the connection failed; the results below say so
    }
  }
  const bool synced = PQpipelineSync(conn_.get()) == 1;
  // Every result up to the sync point is read, also after a failure (the later statements
  // come back aborted), so the connection leaves pipeline mode clean.
  std::optional<Error> first_error;
  for (bool done = !synced; !done;) {
    pg_result* result = PQgetResult(conn_.get());
    if (result == nullptr) {  // the end of one statement's results, or a lost connection
      done = !Healthy();
      continue;
    }
    Rows guard(result);
    const auto status = PQresultStatus(result);
    if (status == PGRES_PIPELINE_SYNC) {
      done = true;
    } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !first_error) {
      first_error = Failure(result, fmt::format("running \"{}\"", sql));
    }
  }
  (void)PQexitPipelineMode(conn_.get());
  if (synced) CountIfTransactionEnded();
  if (!synced && !first_error) first_error = Failure(nullptr, "sending a pipeline");
  if (first_error) return *first_error;
  return Ok();
}

Status Connection::Run(std::string_view sql, const Params& params) {
  PG_TRY_STATUS(Exec(sql, params));
  return Ok();
}

Status Connection::ExecScript(std::string_view sql) {
  pg_result* result = PQexec(conn_.get(), std::string(sql).c_str());
  Rows guard(result);
  CountIfTransactionEnded();
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(result, "running a script");
  return Ok();
}

// --- Transaction ---

Result<Transaction> Transaction::Begin(Connection& db) {
  PG_TRY_STATUS(db.ExecScript("BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->ExecScript("ROLLBACK");
}

Status Transaction::Commit() {
  Connection* db = db_;
  db_ = nullptr;
  return db->ExecScript("COMMIT");
}

// --- Pool ---

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->GiveBack(std::move(conn_));
}

Result<std::unique_ptr<Pool>> Pool::Open(std::string url, size_t size, std::string origin) {
  std::unique_ptr<Pool> pool(new Pool(std::move(url), size == 0 ? 1 : size, std::move(origin)));
  PG_TRY(Connection first, pool->Connect());
  pool->idle_.push_back(std::make_unique<Connection>(std::move(first)));
  pool->open_ = 1;
  return pool;
}

Result<Pool::Lease> Pool::Acquire() {
  std::unique_lock lock(mu_);
  for (;;) {
    returned_.wait(lock, [this] { return !idle_.empty() || open_ < size_; });
    if (idle_.empty()) break;
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (conn->StillConnected()) return Lease(*this, std::move(conn));
    --open_;  // the server closed it while it was idle (a restart, a failover): drop it
  }
  ++open_;
  lock.unlock();
  auto opened = Connect();
  if (!opened) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return opened.error();
  }
  return Lease(*this, std::make_unique<Connection>(std::move(*opened)));
}

Result<Connection> Pool::Connect() const {
  PG_TRY(Connection conn, Connection::Open(url_));
  if (!origin_.empty()) {
    PG_TRY_STATUS(conn.Run("SELECT set_config('provgate.origin', $1, false)", Params().BindText(1, origin_)));
  }
  return conn;
}

void Pool::GiveBack(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  if (conn->Healthy()) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  returned_.notify_one();
}

std::string RedactUrl(std::string_view url) {
  static const std::regex kPassword(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
  static const std::regex kKeyword(R"(password\s*=\s*('[^']*'|\S+))");
  std::string out = std::regex_replace(std::string(url), kPassword, "$1:***@");
  return std::regex_replace(out, kKeyword, "password=***");
}

}  // namespace provgate::store::postgres
