// logsift_hs: a thin N-API surface over the system libhs (Hyperscan / Vectorscan).
//
// Everything policy-like (which flags a pattern gets, caching, confirm passes) lives in TypeScript;
// this file only compiles, (de)serializes and scans. Errors are thrown as JS errors whose `code`
// starts with HS_ so the loader can turn them into typed logsift errors.
#include <napi.h>
#include <hs.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

Napi::Error HsError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

const char* HsErrorName(hs_error_t rc) {
  switch (rc) {
    case HS_INVALID: return "HS_INVALID";
    case HS_NOMEM: return "HS_NOMEM";
    case HS_SCAN_TERMINATED: return "HS_SCAN_TERMINATED";
    case HS_COMPILER_ERROR: return "HS_COMPILER_ERROR";
    case HS_DB_VERSION_ERROR: return "HS_DB_VERSION_ERROR";
    case HS_DB_PLATFORM_ERROR: return "HS_DB_PLATFORM_ERROR";
    case HS_DB_MODE_ERROR: return "HS_DB_MODE_ERROR";
    case HS_BAD_ALIGN: return "HS_BAD_ALIGN";
    case HS_BAD_ALLOC: return "HS_BAD_ALLOC";
    case HS_SCRATCH_IN_USE: return "HS_SCRATCH_IN_USE";
    case HS_ARCH_ERROR: return "HS_ARCH_ERROR";
    case HS_INSUFFICIENT_SPACE: return "HS_INSUFFICIENT_SPACE";
    default: return "HS_UNKNOWN_ERROR";
  }
}

struct Pattern {
  std::string expression;
  unsigned int flags;
  unsigned int id;
};

// Reads [{expression, flags, id}] into owned C++ values so a worker thread can use them.
bool ReadPatterns(const Napi::Env& env, const Napi::Value& value, std::vector<Pattern>* out) {
  if (!value.IsArray()) {
    HsError(env, "HS_BAD_ARGUMENT", "patterns must be an array").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array arr = value.As<Napi::Array>();
  out->reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value item = arr.Get(i);
    if (!item.IsObject()) {
      HsError(env, "HS_BAD_ARGUMENT", "pattern " + std::to_string(i) + " must be an object")
          .ThrowAsJavaScriptException();
      return false;
    }
    Napi::Object obj = item.As<Napi::Object>();
    Napi::Value expr = obj.Get("expression");
    Napi::Value flags = obj.Get("flags");
    Napi::Value id = obj.Get("id");
    if (!expr.IsString() || !flags.IsNumber() || !id.IsNumber()) {
      HsError(env, "HS_BAD_ARGUMENT",
              "pattern " + std::to_string(i) + " needs expression:string, flags:number, id:number")
          .ThrowAsJavaScriptException();
      return false;
    }
    out->push_back({expr.As<Napi::String>().Utf8Value(), flags.As<Napi::Number>().Uint32Value(),
                    id.As<Napi::Number>().Uint32Value()});
  }
  return true;
}

class Database;
class Scanner;

// Per-environment state (the main thread and every worker thread each load the addon once):
// the class constructors and the native handles still alive, so that a cleanup hook can release
// them when the environment ends (a terminated worker) even if their finalizers never run.
struct AddonData {
  Napi::FunctionReference database_ctor;
  Napi::FunctionReference scanner_ctor;
  std::unordered_set<Database*> databases;
  std::unordered_set<Scanner*> scanners;
  bool closing = false;
};

AddonData* DataOf(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// Tells V8 how much native memory a JS object holds, so that replaced databases are collected.
void AccountExternal(Napi::Env env, AddonData* data, int64_t bytes) {
  if (bytes != 0 && data != nullptr && !data->closing) Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
}

class Database : public Napi::ObjectWrap<Database> {
 public:
  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function fn = DefineClass(env, "Database",
                                    {InstanceMethod("serialize", &Database::Serialize),
                                     InstanceMethod("size", &Database::Size),
                                     InstanceMethod("info", &Database::Info)});
    data->database_ctor = Napi::Persistent(fn);
    exports.Set("Database", fn);
  }

  // Only native code creates databases: it passes the hs_database_t* as an External.
  explicit Database(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Database>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      HsError(info.Env(), "HS_BAD_ARGUMENT", "Database cannot be constructed from JavaScript")
          .ThrowAsJavaScriptException();
      return;
    }
    db_ = info[0].As<Napi::External<hs_database_t>>().Data();
    data_ = DataOf(info.Env());
    data_->databases.insert(this);
    size_t size = 0;
    if (hs_database_size(db_, &size) == HS_SUCCESS) accounted_ = static_cast<int64_t>(size);
    AccountExternal(info.Env(), data_, accounted_);
  }

  ~Database() override {
    Release();
    if (data_ != nullptr) data_->databases.erase(this);
  }

  void Finalize(Napi::Env env) override {
    AccountExternal(env, data_, -accounted_);
    accounted_ = 0;
  }

  // Frees the database now (environment teardown); the JS object, if any, is left empty.
  void Release() {
    if (db_ != nullptr) hs_free_database(db_);
    db_ = nullptr;
  }

  static Napi::Value Wrap(Napi::Env env, hs_database_t* db) {
    AddonData* data = DataOf(env);
    if (data == nullptr || data->closing) {
      hs_free_database(db);
      return env.Undefined();
    }
    return data->database_ctor.New({Napi::External<hs_database_t>::New(env, db)});
  }

  hs_database_t* db() const { return db_; }

 private:
  bool Usable(const Napi::CallbackInfo& info) {
    if (db_ != nullptr) return true;
    HsError(info.Env(), "HS_INVALID", "the database was released").ThrowAsJavaScriptException();
    return false;
  }

  Napi::Value Serialize(const Napi::CallbackInfo& info) {
    if (!Usable(info)) return info.Env().Undefined();
    char* bytes = nullptr;
    size_t length = 0;
    hs_error_t rc = hs_serialize_database(db_, &bytes, &length);
    if (rc != HS_SUCCESS) {
      HsError(info.Env(), HsErrorName(rc), "hs_serialize_database failed").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Buffer<char> out = Napi::Buffer<char>::Copy(info.Env(), bytes, length);
    free(bytes);
    return out;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    if (!Usable(info)) return info.Env().Undefined();
    size_t size = 0;
    hs_database_size(db_, &size);
    return Napi::Number::New(info.Env(), static_cast<double>(size));
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    if (!Usable(info)) return info.Env().Undefined();
    char* text = nullptr;
    if (hs_database_info(db_, &text) != HS_SUCCESS) return info.Env().Null();
    Napi::String out = Napi::String::New(info.Env(), text);
    free(text);
    return out;
  }

  hs_database_t* db_ = nullptr;
  AddonData* data_ = nullptr;
  int64_t accounted_ = 0;
};

// Compiles in the libuv pool: a 2,500-pattern compile takes seconds and must not block the loop.
class CompileWorker : public Napi::AsyncWorker {
 public:
  CompileWorker(Napi::Env env, std::vector<Pattern> patterns, bool has_platform, hs_platform_info_t platform)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        patterns_(std::move(patterns)), has_platform_(has_platform), platform_(platform) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    std::vector<const char*> exprs;
    std::vector<unsigned int> flags;
    std::vector<unsigned int> ids;
    for (const Pattern& p : patterns_) {
      exprs.push_back(p.expression.c_str());
      flags.push_back(p.flags);
      ids.push_back(p.id);
    }
    hs_compile_error_t* err = nullptr;
    hs_error_t rc = hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                                     static_cast<unsigned int>(patterns_.size()), HS_MODE_BLOCK,
                                     has_platform_ ? &platform_ : nullptr, &db_, &err);
    if (rc != HS_SUCCESS) {
      error_message_ = err != nullptr ? err->message : HsErrorName(rc);
      error_expression_ = err != nullptr ? err->expression : -1;
      if (err != nullptr) hs_free_compile_error(err);
      db_ = nullptr;
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (db_ == nullptr) {
      Napi::Error e = HsError(env, "HS_COMPILER_ERROR", error_message_);
      e.Set("expression", Napi::Number::New(env, error_expression_));
      deferred_.Reject(e.Value());
      return;
    }
    hs_database_t* db = db_;
    db_ = nullptr;  // owned by the JS object now
    deferred_.Resolve(Database::Wrap(env, db));
  }

  // A compile that finished after its environment ended is never handed over: free it here.
  ~CompileWorker() override {
    if (db_ != nullptr) hs_free_database(db_);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Pattern> patterns_;
  bool has_platform_;
  hs_platform_info_t platform_;
  hs_database_t* db_ = nullptr;
  std::string error_message_;
  int error_expression_ = -1;
};

// compile(patterns[, {tune, cpuFeatures}]): without a platform, for the host CPU; with one, for that
// target (tune 0 and cpuFeatures 0 = a generic x86-64 database every host can load).
Napi::Value CompileAsync(const Napi::CallbackInfo& info) {
  std::vector<Pattern> patterns;
  if (!ReadPatterns(info.Env(), info[0], &patterns)) return info.Env().Undefined();
  hs_platform_info_t platform{};
  bool has_platform = info.Length() > 1 && info[1].IsObject();
  if (has_platform) {
    Napi::Object p = info[1].As<Napi::Object>();
    Napi::Value tune = p.Get("tune");
    Napi::Value features = p.Get("cpuFeatures");
    if (!tune.IsNumber() || !features.IsNumber()) {
      Napi::TypeError::New(info.Env(), "platform must be {tune: number, cpuFeatures: number}").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    platform.tune = tune.As<Napi::Number>().Uint32Value();
    platform.cpu_features = static_cast<unsigned long long>(features.As<Napi::Number>().Int64Value());
  }
  CompileWorker* worker = new CompileWorker(info.Env(), std::move(patterns), has_platform, platform);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// Checks every pattern on its own (parse + analysis, no full compile) so each bad pattern is
// named, instead of only the first failure of a multi-compile. Runs in the libuv pool.
class CheckWorker : public Napi::AsyncWorker {
 public:
  CheckWorker(Napi::Env env, std::vector<Pattern> patterns)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)),
        patterns_(std::move(patterns)), results_(patterns_.size()) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    for (size_t i = 0; i < patterns_.size(); i++) {
      hs_expr_info_t* einfo = nullptr;
      hs_compile_error_t* err = nullptr;
      hs_error_t rc = hs_expression_info(patterns_[i].expression.c_str(), patterns_[i].flags, &einfo, &err);
      if (rc != HS_SUCCESS) {
        results_[i].ok = false;
        results_[i].message = err != nullptr ? err->message : HsErrorName(rc);
        if (err != nullptr) hs_free_compile_error(err);
        continue;
      }
      results_[i].ok = true;
      results_[i].min_width = einfo->min_width;
      results_[i].max_width = einfo->max_width;
      free(einfo);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Array out = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); i++) {
      Napi::Object r = Napi::Object::New(env);
      r.Set("ok", Napi::Boolean::New(env, results_[i].ok));
      if (results_[i].ok) {
        r.Set("minWidth", Napi::Number::New(env, results_[i].min_width));
        // UINT_MAX means unbounded.
        r.Set("maxWidth", results_[i].max_width == 0xffffffffu
                              ? env.Null()
                              : Napi::Number::New(env, results_[i].max_width));
      } else {
        r.Set("error", Napi::String::New(env, results_[i].message));
      }
      out.Set(static_cast<uint32_t>(i), r);
    }
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  struct Result {
    bool ok = false;
    unsigned int min_width = 0;
    unsigned int max_width = 0;
    std::string message;
  };
  Napi::Promise::Deferred deferred_;
  std::vector<Pattern> patterns_;
  std::vector<Result> results_;
};

Napi::Value CheckAsync(const Napi::CallbackInfo& info) {
  std::vector<Pattern> patterns;
  if (!ReadPatterns(info.Env(), info[0], &patterns)) return info.Env().Undefined();
  CheckWorker* worker = new CheckWorker(info.Env(), std::move(patterns));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value Deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    HsError(env, "HS_BAD_ARGUMENT", "deserialize(buffer) needs a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  hs_database_t* db = nullptr;
  hs_error_t rc = hs_deserialize_database(buf.Data(), buf.Length(), &db);
  if (rc != HS_SUCCESS) {
    HsError(env, HsErrorName(rc), "hs_deserialize_database failed").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Database::Wrap(env, db);
}

Napi::Value SerializedInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    HsError(env, "HS_BAD_ARGUMENT", "serializedInfo(buffer) needs a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<char> buf = info[0].As<Napi::Buffer<char>>();
  char* text = nullptr;
  if (hs_serialized_database_info(buf.Data(), buf.Length(), &text) != HS_SUCCESS) return env.Null();
  Napi::String out = Napi::String::New(env, text);
  free(text);
  return out;
}

// One Scanner owns one scratch for one database; it is reused by every call.
class Scanner : public Napi::ObjectWrap<Scanner> {
 public:
  static void Init(Napi::Env env, Napi::Object exports, AddonData* data) {
    Napi::Function fn = DefineClass(env, "Scanner", {InstanceMethod("scan", &Scanner::Scan)});
    data->scanner_ctor = Napi::Persistent(fn);
    exports.Set("Scanner", fn);
  }

  explicit Scanner(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Scanner>(info) {
    Napi::Env env = info.Env();
    data_ = DataOf(env);
    if (info.Length() != 1 || !info[0].IsObject() ||
        !info[0].As<Napi::Object>().InstanceOf(data_->database_ctor.Value())) {
      HsError(env, "HS_BAD_ARGUMENT", "new Scanner(database) needs a Database").ThrowAsJavaScriptException();
      return;
    }
    Database* database = Database::Unwrap(info[0].As<Napi::Object>());
    if (database->db() == nullptr) {
      HsError(env, "HS_INVALID", "the database was released").ThrowAsJavaScriptException();
      return;
    }
    database_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    db_ = database->db();
    hs_error_t rc = hs_alloc_scratch(db_, &scratch_);
    if (rc != HS_SUCCESS) {
      scratch_ = nullptr;
      HsError(env, HsErrorName(rc), "hs_alloc_scratch failed").ThrowAsJavaScriptException();
      return;
    }
    data_->scanners.insert(this);
    size_t size = 0;
    if (hs_scratch_size(scratch_, &size) == HS_SUCCESS) accounted_ = static_cast<int64_t>(size);
    AccountExternal(env, data_, accounted_);
  }

  ~Scanner() override {
    Release();
    if (data_ != nullptr) data_->scanners.erase(this);
  }

  void Finalize(Napi::Env env) override {
    AccountExternal(env, data_, -(accounted_ + static_cast<int64_t>(matches_.capacity() * sizeof(uint32_t))));
    accounted_ = 0;
  }

  void Release() {
    if (scratch_ != nullptr) hs_free_scratch(scratch_);
    scratch_ = nullptr;
    db_ = nullptr;
  }

 private:
  // The match callback runs inside libhs's C frames: it must neither throw nor allocate. It writes
  // into room reserved beforehand; when the room is full it stops the scan (non-zero return) and
  // Scan() grows the buffer and scans that message again.
  struct Context {
    uint32_t* out;
    size_t used;
    size_t capacity;
    uint32_t message;
    bool full;
  };

  static int OnMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
    Context* c = static_cast<Context*>(ctx);
    if (c->used + 2 > c->capacity) {
      c->full = true;
      return 1;
    }
    c->out[c->used++] = c->message;
    c->out[c->used++] = id;
    return 0;
  }

  // scan(data: Buffer, offsets: Uint32Array (n+1 entries)) -> Uint32Array of (message, id) pairs.
  // One hs_scan per message keeps ^, $ and SINGLEMATCH per message.
  Napi::Value Scan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsBuffer() || !info[1].IsTypedArray() ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      HsError(env, "HS_BAD_ARGUMENT", "scan(data: Buffer, offsets: Uint32Array)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (scratch_ == nullptr) {
      HsError(env, "HS_INVALID", "the scanner has no scratch").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<char> data = info[0].As<Napi::Buffer<char>>();
    Napi::Uint32Array offsets = info[1].As<Napi::Uint32Array>();
    size_t n = offsets.ElementLength();
    if (n == 0) return Napi::Uint32Array::New(env, 0);
    const uint32_t* off = offsets.Data();
    for (size_t i = 0; i + 1 < n; i++) {
      if (off[i] > off[i + 1] || off[i + 1] > data.Length()) {
        HsError(env, "HS_BAD_ARGUMENT", "offsets must be ascending and within the buffer")
            .ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    size_t before = matches_.capacity();
    if (matches_.size() < kInitialRoom) matches_.resize(kInitialRoom);
    Context ctx{matches_.data(), 0, matches_.size(), 0, false};
    for (size_t i = 0; i + 1 < n; i++) {
      ctx.message = static_cast<uint32_t>(i);
      size_t mark = ctx.used;
      hs_error_t rc;
      for (;;) {
        ctx.full = false;
        rc = hs_scan(db_, data.Data() + off[i], off[i + 1] - off[i], 0, scratch_, &Scanner::OnMatch, &ctx);
        if (!(rc == HS_SCAN_TERMINATED && ctx.full)) break;
        // Out of room: grow (outside libhs) and scan this message again from its first match.
        matches_.resize(matches_.size() * 2);
        ctx.out = matches_.data();
        ctx.capacity = matches_.size();
        ctx.used = mark;
      }
      if (rc != HS_SUCCESS) {
        Napi::Error e = HsError(env, HsErrorName(rc), "hs_scan failed");
        e.Set("message_index", Napi::Number::New(env, static_cast<double>(i)));
        e.ThrowAsJavaScriptException();
        return env.Undefined();
      }
    }
    size_t after = matches_.capacity();
    if (after != before) AccountExternal(env, data_, static_cast<int64_t>((after - before) * sizeof(uint32_t)));
    Napi::Uint32Array out = Napi::Uint32Array::New(env, ctx.used);
    // Empty when the environment is shutting down (a worker being terminated): nothing to fill. A
    // zero-length array may have no backing store (Data() is null): it is still the right answer.
    if (out.IsEmpty()) return env.Undefined();
    if (ctx.used > 0) {
      if (out.Data() == nullptr) return env.Undefined();
      std::memcpy(out.Data(), matches_.data(), ctx.used * sizeof(uint32_t));
    }
    return out;
  }

  static constexpr size_t kInitialRoom = 4096;

  Napi::ObjectReference database_ref_;
  AddonData* data_ = nullptr;
  hs_database_t* db_ = nullptr;
  hs_scratch_t* scratch_ = nullptr;
  std::vector<uint32_t> matches_;
  int64_t accounted_ = 0;
};

// Environment teardown (a worker thread ends or is terminated): free every scratch and database
// of this environment now. Finalizers that run afterwards find empty handles.
void ReleaseEnvironment(AddonData* data) {
  data->closing = true;
  for (Scanner* s : data->scanners) s->Release();
  for (Database* d : data->databases) d->Release();
}

Napi::Value Platform(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  hs_platform_info_t plat;
  Napi::Object out = Napi::Object::New(env);
  if (hs_populate_platform(&plat) == HS_SUCCESS) {
    out.Set("tune", Napi::Number::New(env, plat.tune));
    out.Set("cpuFeatures", Napi::Number::New(env, static_cast<double>(plat.cpu_features)));
  }
  out.Set("valid", Napi::Boolean::New(env, hs_valid_platform() == HS_SUCCESS));
  return out;
}

// CRC-32C (Castagnoli), for kafkajs's record batches (src/kafka/kafkajs.ts): the SSE4.2 instruction
// where the CPU has it, else a table. kafkajs's own is JavaScript, a byte at a time.
namespace crc32c {

uint32_t table[256];

void InitTable() {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
}

uint32_t Soft(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Hard(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p++);
    n--;
  }
  return c32;
}
bool hard = __builtin_cpu_supports("sse4.2");
#else
uint32_t Hard(uint32_t crc, const uint8_t* p, size_t n) { return Soft(crc, p, n); }
bool hard = false;
#endif

}  // namespace crc32c

/** crc32c(bytes: Uint8Array): number — the unsigned CRC-32C of the bytes. */
Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "crc32c: expected a Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto bytes = info[0].As<Napi::Uint8Array>();
  const uint8_t* p = bytes.Data();
  size_t n = bytes.ByteLength();
  uint32_t crc = crc32c::hard ? crc32c::Hard(0xFFFFFFFFu, p, n) : crc32c::Soft(0xFFFFFFFFu, p, n);
  return Napi::Number::New(env, static_cast<double>(crc ^ 0xFFFFFFFFu));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted with the environment
  env.AddCleanupHook(ReleaseEnvironment, data);
  Database::Init(env, exports, data);
  Scanner::Init(env, exports, data);
  exports.Set("compile", Napi::Function::New(env, CompileAsync));
  exports.Set("check", Napi::Function::New(env, CheckAsync));
  exports.Set("deserialize", Napi::Function::New(env, Deserialize));
  exports.Set("serializedInfo", Napi::Function::New(env, SerializedInfo));
  exports.Set("platform", Napi::Function::New(env, Platform));
  crc32c::InitTable();
  exports.Set("crc32c", Napi::Function::New(env, Crc32c));
  exports.Set("version", Napi::String::New(env, hs_version()));
  return exports;
}

}  // namespace

NODE_API_MODULE(logsift_hs, Init)
