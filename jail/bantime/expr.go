package bantime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// An expr is a compiled arithmetic expression in the Python subset that
// fail2ban's bantime.formula and bantime.factor use: numbers, ban.Time,
// ban.Count, banFactor, + - * / // % ** << >>, comparisons,
// "a if cond else b", and the functions float, int, abs, min, max, round,
// math.exp, math.log, math.sqrt, math.pow, math.floor, math.ceil.
type expr func(env *env) (value, error)

type env struct {
	time, count, factor float64
}

// value is a Python number: an int or a float.
type value struct {
	f     float64
	isInt bool
}

func (v value) truthy() bool { return v.f != 0 }

func intValue(i float64) value { return value{f: i, isInt: true} }

type parser struct {
	src  string
	toks []string
	pos  int
}

// compile parses src, rejecting anything outside the subset with an error
// that names the offending token.
func compile(src string) (expr, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks}
	e, err := p.conditional()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == '_' ||
				s[j] == 'e' || s[j] == 'E' || (s[j] == '-' || s[j] == '+') && (s[j-1] == 'e' || s[j-1] == 'E')) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '_' || unicode.IsLetter(c):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '.' || unicode.IsLetter(rune(s[j])) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			op := ""
			for _, o := range []string{"**", "//", "<<", ">>", "<=", ">=", "==", "!=", "+", "-", "*", "/", "%", "<", ">", "(", ")", ","} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("unsupported character %q", c)
			}
			toks = append(toks, op)
			i += len(op)
		}
	}
	return toks, nil
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) accept(t string) bool {
	if p.peek() == t {
		p.pos++
		return true
	}
	return false
}

// conditional: comparison ["if" comparison "else" conditional]
func (p *parser) conditional() (expr, error) {
	a, err := p.comparison()
	if err != nil {
		return nil, err
	}
	if !p.accept("if") {
		return a, nil
	}
	c, err := p.comparison()
	if err != nil {
		return nil, err
	}
	if !p.accept("else") {
		return nil, fmt.Errorf("expected \"else\"")
	}
	b, err := p.conditional()
	if err != nil {
		return nil, err
	}
	return func(e *env) (value, error) {
		cv, err := c(e)
		if err != nil {
			return value{}, err
		}
		if cv.truthy() {
			return a(e)
		}
		return b(e)
	}, nil
}

var comparisons = map[string]func(a, b float64) bool{
	"<": func(a, b float64) bool { return a < b }, ">": func(a, b float64) bool { return a > b },
	"<=": func(a, b float64) bool { return a <= b }, ">=": func(a, b float64) bool { return a >= b },
	"==": func(a, b float64) bool { return a == b }, "!=": func(a, b float64) bool { return a != b },
}

func (p *parser) comparison() (expr, error) {
	a, err := p.shift()
	if err != nil {
		return nil, err
	}
	for {
		cmp, ok := comparisons[p.peek()]
		if !ok {
			return a, nil
		}
		p.pos++
		b, err := p.shift()
		if err != nil {
			return nil, err
		}
		l := a
		a = func(e *env) (value, error) {
			x, y, err := both(e, l, b)
			if err != nil {
				return value{}, err
			}
			if cmp(x.f, y.f) {
				return intValue(1), nil
			}
			return intValue(0), nil
		}
	}
}

func both(e *env, a, b expr) (value, value, error) {
	x, err := a(e)
	if err != nil {
		return x, x, err
	}
	y, err := b(e)
	return x, y, err
}

// binary parses a left-associative level of operators.
func (p *parser) binary(next func() (expr, error), ops map[string]func(x, y value) (value, error)) (expr, error) {
	a, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := ops[p.peek()]
		if !ok {
			return a, nil
		}
		p.pos++
		b, err := next()
		if err != nil {
			return nil, err
		}
		l := a
		a = func(e *env) (value, error) {
			x, y, err := both(e, l, b)
			if err != nil {
				return value{}, err
			}
			return op(x, y)
		}
	}
}

func ints(op string, x, y value) error {
	if !x.isInt || !y.isInt {
		return fmt.Errorf("unsupported operand for %s: float", op)
	}
	return nil
}

func (p *parser) shift() (expr, error) {
	return p.binary(p.sum, map[string]func(x, y value) (value, error){
		"<<": func(x, y value) (value, error) {
			if err := ints("<<", x, y); err != nil {
				return value{}, err
			}
			if y.f < 0 || y.f > 62 {
				return value{}, fmt.Errorf("shift count %v out of range", y.f)
			}
			return intValue(x.f * math.Exp2(y.f)), nil
		},
		">>": func(x, y value) (value, error) {
			if err := ints(">>", x, y); err != nil {
				return value{}, err
			}
			if y.f < 0 {
				return value{}, fmt.Errorf("negative shift count")
			}
			return intValue(math.Floor(x.f / math.Exp2(y.f))), nil
		},
	})
}

func (p *parser) sum() (expr, error) {
	return p.binary(p.product, map[string]func(x, y value) (value, error){
		"+": func(x, y value) (value, error) { return value{x.f + y.f, x.isInt && y.isInt}, nil },
		"-": func(x, y value) (value, error) { return value{x.f - y.f, x.isInt && y.isInt}, nil },
	})
}

func (p *parser) product() (expr, error) {
	return p.binary(p.unary, map[string]func(x, y value) (value, error){
		"*": func(x, y value) (value, error) { return value{x.f * y.f, x.isInt && y.isInt}, nil },
		"/": func(x, y value) (value, error) {
			if y.f == 0 {
				return value{}, fmt.Errorf("division by zero")
			}
			return value{f: x.f / y.f}, nil
		},
		"//": func(x, y value) (value, error) {
			if y.f == 0 {
				return value{}, fmt.Errorf("division by zero")
			}
			return value{math.Floor(x.f / y.f), x.isInt && y.isInt}, nil
		},
		"%": func(x, y value) (value, error) {
			if y.f == 0 {
				return value{}, fmt.Errorf("modulo by zero")
			}
			return value{x.f - y.f*math.Floor(x.f/y.f), x.isInt && y.isInt}, nil
		},
	})
}

func (p *parser) unary() (expr, error) {
	if p.accept("-") {
		a, err := p.unary()
		if err != nil {
			return nil, err
		}
		return func(e *env) (value, error) {
			v, err := a(e)
			return value{-v.f, v.isInt}, err
		}, nil
	}
	if p.accept("+") {
		return p.unary()
	}
	return p.power()
}

// power: primary ["**" unary] (right-associative, binds tighter than a
// unary minus on its left).
func (p *parser) power() (expr, error) {
	a, err := p.primary()
	if err != nil {
		return nil, err
	}
	if !p.accept("**") {
		return a, nil
	}
	b, err := p.unary()
	if err != nil {
		return nil, err
	}
	return func(e *env) (value, error) {
		x, y, err := both(e, a, b)
		if err != nil {
			return value{}, err
		}
		return value{math.Pow(x.f, y.f), x.isInt && y.isInt && y.f >= 0}, nil
	}, nil
}

var functions = map[string]func(args []value) (value, error){
	"float": func(a []value) (value, error) { return value{f: a[0].f}, nil },
	"int":   func(a []value) (value, error) { return intValue(math.Trunc(a[0].f)), nil },
	"abs":   func(a []value) (value, error) { return value{math.Abs(a[0].f), a[0].isInt}, nil },
	"round": func(a []value) (value, error) { return intValue(math.RoundToEven(a[0].f)), nil },
	"min": func(a []value) (value, error) {
		m := a[0]
		for _, v := range a[1:] {
			if v.f < m.f {
				m = v
			}
		}
		return m, nil
	},
	"max": func(a []value) (value, error) {
		m := a[0]
		for _, v := range a[1:] {
			if v.f > m.f {
				m = v
			}
		}
		return m, nil
	},
	"math.exp":   func(a []value) (value, error) { return value{f: math.Exp(a[0].f)}, nil },
	"math.log":   func(a []value) (value, error) { return value{f: math.Log(a[0].f)}, nil },
	"math.sqrt":  func(a []value) (value, error) { return value{f: math.Sqrt(a[0].f)}, nil },
	"math.pow":   func(a []value) (value, error) { return value{f: math.Pow(a[0].f, a[1].f)}, nil },
	"math.floor": func(a []value) (value, error) { return intValue(math.Floor(a[0].f)), nil },
	"math.ceil":  func(a []value) (value, error) { return intValue(math.Ceil(a[0].f)), nil },
}

var arity = map[string][2]int{"float": {1, 1}, "int": {1, 1}, "abs": {1, 1}, "round": {1, 1},
	"min": {2, 99}, "max": {2, 99}, "math.exp": {1, 1}, "math.log": {1, 1}, "math.sqrt": {1, 1},
	"math.pow": {2, 2}, "math.floor": {1, 1}, "math.ceil": {1, 1}}

func (p *parser) primary() (expr, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("unexpected end of expression")
	case p.accept("("):
		e, err := p.conditional()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, fmt.Errorf("expected \")\"")
		}
		return e, nil
	case t[0] >= '0' && t[0] <= '9' || t[0] == '.':
		p.pos++
		clean := strings.ReplaceAll(t, "_", "")
		if i, err := strconv.ParseInt(clean, 10, 64); err == nil {
			v := intValue(float64(i))
			return func(*env) (value, error) { return v, nil }, nil
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", t)
		}
		return func(*env) (value, error) { return value{f: f}, nil }, nil
	case t == "ban.Time":
		p.pos++
		return func(e *env) (value, error) { return value{e.time, e.time == math.Trunc(e.time)}, nil }, nil
	case t == "ban.Count":
		p.pos++
		return func(e *env) (value, error) { return intValue(e.count), nil }, nil
	case t == "banFactor":
		p.pos++
		return func(e *env) (value, error) { return value{e.factor, e.factor == math.Trunc(e.factor)}, nil }, nil
	}
	fn, ok := functions[t]
	if !ok {
		return nil, fmt.Errorf("unsupported name %q (use ban.Time, ban.Count, banFactor, numbers, arithmetic and math functions)", t)
	}
	p.pos++
	if !p.accept("(") {
		return nil, fmt.Errorf("expected \"(\" after %s", t)
	}
	var args []expr
	for !p.accept(")") {
		if len(args) > 0 && !p.accept(",") {
			return nil, fmt.Errorf("expected \",\" or \")\" in %s(...)", t)
		}
		a, err := p.conditional()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if n := arity[t]; len(args) < n[0] || len(args) > n[1] {
		return nil, fmt.Errorf("%s takes %d argument(s), got %d", t, n[0], len(args))
	}
	return func(e *env) (value, error) {
		vals := make([]value, len(args))
		for i, a := range args {
			v, err := a(e)
			if err != nil {
				return value{}, err
			}
			vals[i] = v
		}
		return fn(vals)
	}, nil
}
