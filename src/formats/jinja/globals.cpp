// Global functions of the environment transformers renders chat templates in: Jinja2's
// range (capped like the sandbox's MAX_RANGE), namespace and dict, plus transformers'
// raise_exception and strftime_now. Also the argument binding shared by all builtins.
#include "core/error.h"
#include "formats/jinja/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <functional>

namespace mariana::jinja {

BoundArgs::BoundArgs(const CallArgs& args, std::string_view function, std::initializer_list<std::string_view> params,
                     size_t required)
    : slots_(params.size(), nullptr)
{
    if (args.positional.size() > params.size())
        fail("{}() takes at most {} argument(s) ({} given)", function, params.size(), args.positional.size());
    for (size_t i = 0; i < args.positional.size(); ++i) slots_[i] = &args.positional[i];
    for (const auto& [key, value] : args.keyword) {
        size_t i = 0;
        for (const auto name : params) {
            if (name == key) break;
            ++i;
        }
        if (i == params.size()) fail("{}() got an unexpected keyword argument '{}'", function, key);
        if (slots_[i]) fail("{}() got multiple values for argument '{}'", function, key);
        slots_[i] = &value;
    }
    for (size_t i = 0; i < required; ++i)
        if (!slots_[i]) fail("{}() missing required argument '{}'", function, *(params.begin() + i));
}

const Value& BoundArgs::operator[](size_t i) const { return *slots_[i]; }

int64_t require_int(const Value& v, std::string_view what)
{
    if (v.is_int() || v.is_bool()) return v.as_integer();
    if (v.is_undefined()) fail("{}", v.undefined_hint());
    fail("{} must be an integer, not '{}'", what, type_name(v));
}

const std::string& require_string(const Value& v, std::string_view what)
{
    if (v.is_string()) return v.as_string();
    if (v.is_undefined()) fail("{}", v.undefined_hint());
    fail("{} must be a string, not '{}'", what, type_name(v));
}

namespace {

// Jinja2's sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE).
constexpr int64_t kMaxRange = 100'000;

Value range(Interpreter& in, const CallArgs& args)
{
    if (!args.keyword.empty()) fail("range() takes no keyword arguments");
    const auto& a = args.positional;
    if (a.empty() || a.size() > 3) fail("range expected 1 to 3 arguments, got {}", a.size());
    int64_t start = 0, stop, step = 1;
    if (a.size() == 1) {
        stop = require_int(a[0], "range() argument");
    } else {
        start = require_int(a[0], "range() argument");
        stop = require_int(a[1], "range() argument");
        if (a.size() == 3) step = require_int(a[2], "range() argument");
    }
    if (step == 0) fail("range() arg 3 must not be zero");
    // The length in 128-bit arithmetic: start, stop and step may be anywhere in int64.
    __int128 length = 0;
    if (step > 0 && stop > start) length = ((__int128)stop - start - 1) / step + 1;
    if (step < 0 && start > stop) length = ((__int128)start - stop - 1) / -(__int128)step + 1;
    if (length > kMaxRange)
        fail("range too big: the sandbox allows at most {} items (MAX_RANGE), this one has {}", kMaxRange,
             fmt::to_string(int64_t(std::min<__int128>(length, INT64_MAX))));
    in.charge_steps(uint64_t(length));
    std::vector<Value> items;
    items.reserve(size_t(length));
    for (int64_t i = 0; i < int64_t(length); ++i) items.push_back(Value::integer(start + i * step));
    return Value::list(std::move(items));
}

// dict(mapping_or_pairs, **kwargs), as namespace() and dict() take them.
void fill_from(Interpreter& in, std::string_view function, const CallArgs& args,
               const std::function<void(const Value&, const Value&)>& set)
{
    if (args.positional.size() > 1) fail("{}() expected at most 1 positional argument, got {}", function, args.positional.size());
    if (!args.positional.empty()) {
        const Value& source = args.positional[0];
        if (source.is_dict()) {
            for (const auto& [k, v] : source.as_dict().entries) set(k, v);
        } else {
            const ListPtr pairs = in.iterate(source);  // range-for would not keep a temporary's member alive
            for (const Value& pair : pairs->items) {
                const ListPtr kv = in.iterate(pair);
                if (kv->items.size() != 2) fail("{}() sequence elements must have length 2", function);
                set(kv->items[0], kv->items[1]);
            }
        }
    }
    for (const auto& [k, v] : args.keyword) set(Value::string(k), v);
}

Value make_namespace(Interpreter& in, const CallArgs& args)
{
    Namespace* ns = in.new_namespace();
    fill_from(in, "namespace", args, [&](const Value& k, const Value& v) {
        if (!k.is_string()) fail("namespace() keys must be strings, not '{}'", type_name(k));
        ns->set(k.as_string(), v);
    });
    return Value::namespace_(ns);
}

Value make_dict(Interpreter& in, const CallArgs& args)
{
    auto d = std::make_shared<Dict>();
    fill_from(in, "dict", args, [&](const Value& k, const Value& v) {
        if ((k.is_list() && !k.as_list().is_tuple) || k.is_dict()) fail("unhashable type: '{}'", type_name(k));
        d->set(k, v);
    });
    in.charge_steps(d->entries.size());
    return Value::dict(std::move(d));
}

Value strftime_now(Interpreter& in, const CallArgs& args)
{
    const BoundArgs a(args, "strftime_now", {"format"}, 1);
    const std::string& format = require_string(a[0], "strftime_now() format");
    if (format.empty()) return Value::string(std::string());
    if (format.size() > 4096) fail("strftime_now() format longer than 4096 bytes");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    // strftime returns 0 when the buffer is too small (or the result is empty): grow a few times.
    for (size_t size = format.size() * 4 + 64; size <= (size_t(1) << 20); size *= 8) {
        std::string buffer(size, '\0');
        const size_t n = std::strftime(buffer.data(), buffer.size(), format.c_str(), &local);
        if (n > 0) {
            buffer.resize(n);
            return in.make_string(std::move(buffer));
        }
    }
    return Value::string(std::string());
}

constexpr std::string_view kUnsupportedGlobals[] = {"lipsum", "cycler", "joiner"};

}  // namespace

bool is_global_function(std::string_view name)
{
    return name == "range" || name == "namespace" || name == "dict" || name == "raise_exception" ||
           name == "strftime_now" || std::find(std::begin(kUnsupportedGlobals), std::end(kUnsupportedGlobals), name) !=
                                         std::end(kUnsupportedGlobals);
}

Value call_global(Interpreter& in, const std::string& name, const CallArgs& args)
{
    if (name == "range") return range(in, args);
    if (name == "namespace") return make_namespace(in, args);
    if (name == "dict") return make_dict(in, args);
    if (name == "strftime_now") return strftime_now(in, args);
    if (name == "raise_exception") {
        const BoundArgs a(args, "raise_exception", {"message"}, 1);
        fail("{} (raised by the template)", in.to_text(a[0]));
    }
    fail("{}() is not supported", name);
}

}  // namespace mariana::jinja
