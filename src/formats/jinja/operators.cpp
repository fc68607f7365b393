// Python's binary operators on values: int arithmetic that never silently wraps (Python
// integers are unbounded, ours are int64, so overflow is an error), float floor division
// and modulo with Python's signs, str/list concatenation and repetition under the output
// budget, `in`, and printf-style `%` formatting.
#include "core/error.h"
#include "formats/jinja/interpreter.h"
#include "formats/jinja/text.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

namespace mariana::jinja {

namespace {

[[noreturn]] void overflow() { fail("integer overflow (Python's unbounded integers are not supported)"); }

std::string_view symbol(ast::BinaryOp op)
{
    switch (op) {
    case ast::BinaryOp::Add: return "+";
    case ast::BinaryOp::Subtract: return "-";
    case ast::BinaryOp::Multiply: return "*";
    case ast::BinaryOp::Divide: return "/";
    case ast::BinaryOp::FloorDivide: return "//";
    case ast::BinaryOp::Modulo: return "%";
    case ast::BinaryOp::Power: return "**";
    default: return "?";
    }
}

Value integer_arithmetic(ast::BinaryOp op, int64_t a, int64_t b)
{
    int64_t r;
    switch (op) {
    case ast::BinaryOp::Add:
        if (__builtin_add_overflow(a, b, &r)) overflow();
        return Value::integer(r);
    case ast::BinaryOp::Subtract:
        if (__builtin_sub_overflow(a, b, &r)) overflow();
        return Value::integer(r);
    case ast::BinaryOp::Multiply:
        if (__builtin_mul_overflow(a, b, &r)) overflow();
        return Value::integer(r);
    case ast::BinaryOp::Divide:
        if (b == 0) fail("division by zero");
        return Value::number(double(a) / double(b));
    case ast::BinaryOp::FloorDivide: {
        if (b == 0) fail("integer division or modulo by zero");
        if (a == INT64_MIN && b == -1) overflow();
        int64_t q = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0))) --q;
        return Value::integer(q);
    }
    case ast::BinaryOp::Modulo: {
        if (b == 0) fail("integer modulo by zero");
        if (b == -1) return Value::integer(0);
        int64_t m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) m += b;
        return Value::integer(m);
    }
    case ast::BinaryOp::Power: {
        if (b < 0) {
            if (a == 0) fail("0.0 cannot be raised to a negative power");
            return Value::number(std::pow(double(a), double(b)));
        }
        int64_t result = 1, base = a;
        for (int64_t e = b; e > 0; e >>= 1) {
            if (e & 1)
                if (__builtin_mul_overflow(result, base, &result)) overflow();
            if (e > 1 && __builtin_mul_overflow(base, base, &base)) {
                // base**2 overflows; fine only when no further factor is needed, which
                // cannot be (e > 1 means another bit is set), unless base is 0/±1.
                overflow();
            }
        }
        return Value::integer(result);
    }
    default: fail("unsupported operator");
    }
}

// Python's float divmod (Objects/floatobject.c): the modulo takes the divisor's sign.
void float_divmod(double x, double y, double& div, double& mod)
{
    mod = std::fmod(x, y);
    div = (x - mod) / y;
    if (mod != 0.0) {
        if ((y < 0) != (mod < 0)) {
            mod += y;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, y);
    }
    if (div != 0.0) {
        const double floor_div = std::floor(div);
        div = div - floor_div > 0.5 ? floor_div + 1.0 : floor_div;
    } else {
        div = std::copysign(0.0, x / y);
    }
}

Value float_arithmetic(ast::BinaryOp op, double x, double y)
{
    switch (op) {
    case ast::BinaryOp::Add: return Value::number(x + y);
    case ast::BinaryOp::Subtract: return Value::number(x - y);
    case ast::BinaryOp::Multiply: return Value::number(x * y);
    case ast::BinaryOp::Divide:
        if (y == 0) fail("float division by zero");
        return Value::number(x / y);
    case ast::BinaryOp::FloorDivide:
    case ast::BinaryOp::Modulo: {
        if (y == 0) fail("{}", op == ast::BinaryOp::Modulo ? "float modulo by zero" : "float floor division by zero");
        double div, mod;
        float_divmod(x, y, div, mod);
        return Value::number(op == ast::BinaryOp::Modulo ? mod : div);
    }
    case ast::BinaryOp::Power: {
        if (x == 0 && y < 0) fail("0.0 cannot be raised to a negative power");
        if (x < 0 && std::isfinite(y) && y != std::floor(y)) fail("complex results are not supported");
        const double r = std::pow(x, y);
        if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) fail("numerical result out of range");
        return Value::number(r);
    }
    default: fail("unsupported operator");
    }
}

Value repeat(Interpreter& in, const Value& sequence, int64_t times)
{
    if (sequence.is_string()) {
        const std::string& s = sequence.as_string();
        if (times <= 0 || s.empty()) return Value::string(std::string());
        if (uint64_t(times) > in.limits().max_output_bytes / s.size())
            fail("text longer than the limit of {} bytes", in.limits().max_output_bytes);
        in.charge_bytes(s.size() * uint64_t(times));
        std::string out;
        out.reserve(s.size() * size_t(times));
        for (int64_t i = 0; i < times; ++i) out += s;
        return Value::string(std::move(out));
    }
    const List& l = sequence.as_list();
    if (times <= 0 || l.items.empty()) return Value::list({}, l.is_tuple);
    if (uint64_t(times) > in.limits().max_steps / l.items.size()) fail("list too long");
    in.charge_steps(l.items.size() * uint64_t(times));
    std::vector<Value> items;
    items.reserve(l.items.size() * size_t(times));
    for (int64_t i = 0; i < times; ++i) items.insert(items.end(), l.items.begin(), l.items.end());
    return Value::list(std::move(items), l.is_tuple);
}

}  // namespace

Value arithmetic(Interpreter& in, ast::BinaryOp op, const Value& a, const Value& b)
{
    if (a.is_undefined()) fail("{}", a.undefined_hint());
    if (b.is_undefined()) fail("{}", b.undefined_hint());
    if (a.is_number() && b.is_number()) {
        if (!a.is_float() && !b.is_float()) return integer_arithmetic(op, a.as_integer(), b.as_integer());
        return float_arithmetic(op, a.as_double(), b.as_double());
    }
    const bool a_int = a.is_int() || a.is_bool(), b_int = b.is_int() || b.is_bool();
    switch (op) {
    case ast::BinaryOp::Add:
        if (a.is_string() && b.is_string()) {
            in.charge_bytes(a.as_string().size() + b.as_string().size());
            return Value::string(a.as_string() + b.as_string());
        }
        if (a.is_list() && b.is_list() && a.as_list().is_tuple == b.as_list().is_tuple) {
            const auto& x = a.as_list().items;
            const auto& y = b.as_list().items;
            in.charge_steps(x.size() + y.size());
            std::vector<Value> items;
            items.reserve(x.size() + y.size());
            items.insert(items.end(), x.begin(), x.end());
            items.insert(items.end(), y.begin(), y.end());
            return Value::list(std::move(items), a.as_list().is_tuple);
        }
        if (a.is_string() || a.is_list())
            fail("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a));
        break;
    case ast::BinaryOp::Multiply:
        if ((a.is_string() || a.is_list()) && b_int) return repeat(in, a, b.as_integer());
        if ((b.is_string() || b.is_list()) && a_int) return repeat(in, b, a.as_integer());
        break;
    case ast::BinaryOp::Modulo:
        if (a.is_string()) return in.make_string(percent_format(in, a.as_string(), b));
        break;
    default: break;
    }
    fail("unsupported operand type(s) for {}: '{}' and '{}'", symbol(op), type_name(a), type_name(b));
}

bool contains(Interpreter& in, const Value& container, const Value& item)
{
    switch (container.kind()) {
    case Kind::String: {
        if (!item.is_string())
            fail("'in <string>' requires string as left operand, not {}", type_name(item));
        in.charge_steps(1 + container.as_string().size() / 64);
        return container.as_string().find(item.as_string()) != std::string::npos;
    }
    case Kind::List: {
        const auto& items = container.as_list().items;
        in.charge_steps(items.size());
        for (const Value& v : items)
            if (equals(v, item)) return true;
        return false;
    }
    case Kind::Dict:
        if ((item.is_list() && !item.as_list().is_tuple) || item.is_dict()) fail("unhashable type: '{}'", type_name(item));
        return container.as_dict().find(item) != nullptr;
    case Kind::Undefined: return false;  // Undefined iterates as nothing
    default: fail("argument of type '{}' is not iterable", type_name(container));
    }
}

std::string percent_format(Interpreter& in, const std::string& format, const Value& args)
{
    std::vector<Value> values;
    if (args.is_list() && args.as_list().is_tuple) values = args.as_list().items;
    else values.push_back(args);
    size_t next = 0;
    std::string out;
    const size_t limit = in.limits().max_output_bytes;
    for (size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out += format[i];
            continue;
        }
        // %[flags][width][.precision]conversion
        size_t j = i + 1;
        if (j < format.size() && format[j] == '(') fail("%(name) formatting is not supported");
        std::string flags;
        while (j < format.size() && std::string_view("-+ 0#").find(format[j]) != std::string_view::npos) flags += format[j++];
        int64_t width = -1, precision = -1;
        const auto number = [&](int64_t& target) {
            if (j < format.size() && format[j] == '*') fail("'*' widths are not supported in % formatting");
            if (j < format.size() && format[j] >= '0' && format[j] <= '9') {
                target = 0;
                while (j < format.size() && format[j] >= '0' && format[j] <= '9') {
                    target = target * 10 + (format[j++] - '0');
                    if (target > int64_t(limit)) fail("text longer than the limit of {} bytes", limit);
                }
            }
        };
        number(width);
        if (j < format.size() && format[j] == '.') {
            ++j;
            precision = 0;
            number(precision);
        }
        if (j >= format.size()) fail("incomplete format");
        const char conversion = format[j];
        i = j;
        if (conversion == '%') {
            out += '%';
            continue;
        }
        if (next >= values.size()) fail("not enough arguments for format string");
        const Value& v = values[next++];
        std::string piece;
        switch (conversion) {
        case 's':
        case 'r': {
            piece = conversion == 's' ? in.to_text(v) : to_repr(v, limit);
            if (precision >= 0) {
                const auto offsets = code_point_offsets(piece);
                if (size_t(precision) + 1 < offsets.size()) piece.resize(offsets[size_t(precision)]);
            }
            break;
        }
        case 'd':
        case 'i':
        case 'x':
        case 'X':
        case 'o':
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G': {
            if (!v.is_number()) fail("%{} format: a real number is required, not {}", conversion, type_name(v));
            const bool integral = std::string_view("dixXo").find(conversion) != std::string_view::npos;
            if (integral && v.is_float() && (conversion != 'd' && conversion != 'i'))
                fail("%{} format: an integer is required, not float", conversion);
            std::string spec(1, '%');
            spec += flags;
            if (precision >= 0) {
                spec += '.';
                spec += std::to_string(std::min<int64_t>(precision, 500));
            }
            char buf[1024];
            if (integral) {
                const double d = v.as_double();
                if (v.is_float() && (!std::isfinite(d) || std::fabs(d) >= 9.2e18)) fail("%d format: number out of range");
                const long long n = v.is_float() ? static_cast<long long>(d) : static_cast<long long>(v.as_integer());
                spec += std::string("ll") + (conversion == 'i' ? 'd' : conversion);
                std::snprintf(buf, sizeof buf, spec.c_str(), n);
            } else {
                spec += conversion;
                std::snprintf(buf, sizeof buf, spec.c_str(), v.as_double());
            }
            piece = buf;
            break;
        }
        default: fail("unsupported format character '{}'", conversion);
        }
        // Width pads by code points; '-' pads on the right; numbers may pad with zeros.
        const size_t length = count_code_points(piece);
        if (width > 0 && size_t(width) > length) {
            const size_t pad = size_t(width) - length;
            const bool numeric = conversion != 's' && conversion != 'r';
            if (flags.find('-') != std::string::npos) piece += std::string(pad, ' ');
            else if (numeric && flags.find('0') != std::string::npos) {
                const size_t sign = !piece.empty() && (piece[0] == '-' || piece[0] == '+' || piece[0] == ' ') ? 1 : 0;
                piece.insert(sign, std::string(pad, '0'));
            } else piece.insert(0, std::string(pad, ' '));
        }
        if (out.size() + piece.size() > limit) fail("text longer than the limit of {} bytes", limit);
        out += piece;
    }
    if (next < values.size() && !(values.size() == 1 && args.is_dict()))
        fail("not all arguments converted during string formatting");
    return out;
}

}  // namespace mariana::jinja
