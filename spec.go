package toloka

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Field codes of the task_spec checks (toloka-api.md §14.3). Only
// VALUE_REQUIRED, VALUE_NOT_ALLOWED and INVALID_URL_SYNTAX are attested for
// task fields; the others are the codes of Toloka's validation code list
// that name the violation, which is what the server is expected to send.
const (
	CodeStringExpected             = "STRING_EXPECTED"
	CodeIntegerExpected            = "INTEGER_EXPECTED"
	CodeFloatExpected              = "FLOAT_EXPECTED"
	CodeBooleanExpected            = "BOOLEAN_EXPECTED"
	CodeObjectExpected             = "OBJECT_EXPECTED"
	CodeArrayExpected              = "ARRAY_EXPECTED"
	CodeSimpleValueExpected        = "SIMPLE_VALUE_EXPECTED"
	CodeStringLengthLessThanMin    = "STRING_LENGTH_LESS_THAN_MIN"
	CodeStringLengthGreaterThanMax = "STRING_LENGTH_GREATER_THAN_MAX"
	CodeArraySizeLessThanMin       = "ARRAY_SIZE_LESS_THAN_MIN"
	CodeArraySizeGreaterThanMax    = "ARRAY_SIZE_GREATER_THAN_MAX"
	CodePatternMismatch            = "PATTERN_MISMATCH"
	CodeInvalidURLSyntax           = "INVALID_URL_SYNTAX"
	CodeInvalidCoordinatesSyntax   = "INVALID_COORDINATES_SYNTAX"
)

// compiledSpec is a project's task_spec prepared for checking many items:
// types lower-cased, bounds parsed, patterns compiled, once per request.
type compiledSpec struct {
	input, output *fieldSet
}

type fieldSet struct {
	which    string // "input" or "output"
	project  string
	byName   map[string]*compiledField
	required []*compiledField // sorted by name, for deterministic errors
	names    string           // declared names, for messages
}

type compiledField struct {
	set      *fieldSet
	name     string
	typ      string // as declared, lower case
	base     string // scalar type: typ without "array_"
	array    bool
	required bool

	minLen, maxLen   *int
	minVal, maxVal   *float64
	minSize, maxSize *int
	allowed          allowedSet
	pattern          *regexp.Regexp
}

// allowedSet is a field's allowed_values by JSON kind. A value is checked
// only against entries of its own kind, so a spec that lists "1" for an
// integer field refuses nothing the server might coerce.
type allowedSet struct {
	strs  map[string]bool
	nums  map[float64]bool
	bools map[bool]bool
}

func compileSpec(p *Project) *compiledSpec {
	return &compiledSpec{
		input:  compileFields(p.ID, "input", p.TaskSpec.InputSpec),
		output: compileFields(p.ID, "output", p.TaskSpec.OutputSpec),
	}
}

// compileFields returns nil for a side the project does not declare (a nil
// map, as in a hand-built Project with only one side), which skips its checks.
func compileFields(project, which string, specs map[string]FieldSpec) *fieldSet {
	if specs == nil {
		return nil
	}
	set := &fieldSet{which: which, project: project, byName: make(map[string]*compiledField, len(specs))}
	names := make([]string, 0, len(specs))
	for name, fs := range specs {
		names = append(names, name)
		typ := strings.ToLower(strings.TrimSpace(fs.Type))
		f := &compiledField{
			set: set, name: name, typ: typ, base: strings.TrimPrefix(typ, ArrayFieldPrefix),
			array: strings.HasPrefix(typ, ArrayFieldPrefix), required: fs.Required,
			minLen: fs.MinLength, maxLen: fs.MaxLength, minSize: fs.MinSize, maxSize: fs.MaxSize,
			minVal: parseBound(fs.MinValue), maxVal: parseBound(fs.MaxValue),
		}
		for _, a := range fs.AllowedValues {
			f.allowed.add(a)
		}
		if fs.Pattern != "" && !javaOnlySyntax(fs.Pattern) {
			// Whether Toloka matches the whole value (Java's String.matches)
			// or any part of it is not documented, so the check refuses only
			// a value in which the pattern matches nowhere: that fails
			// either way. A pattern RE2 cannot compile (lookaround,
			// backreferences) is left to the server.
			f.pattern, _ = regexp.Compile(fs.Pattern)
		}
		set.byName[name] = f
	}
	sort.Strings(names)
	for _, name := range names {
		if f := set.byName[name]; f.required {
			set.required = append(set.required, f)
		}
	}
	if len(names) > 12 {
		names = append(names[:12:12], "…")
	}
	set.names = strings.Join(names, ", ")
	return set
}

func parseBound(n *json.Number) *float64 {
	if n == nil {
		return nil
	}
	f, err := strconv.ParseFloat(string(*n), 64)
	if err != nil {
		return nil
	}
	return &f
}

func (a *allowedSet) add(v any) {
	j := classify(v)
	switch j.kind {
	case jString:
		if a.strs == nil {
			a.strs = map[string]bool{}
		}
		a.strs[j.s] = true
	case jNumber:
		if a.nums == nil {
			a.nums = map[float64]bool{}
		}
		a.nums[j.n] = true
	case jBool:
		if a.bools == nil {
			a.bools = map[bool]bool{}
		}
		a.bools[j.b] = true
	}
}

// refuses reports whether the set restricts values of j's kind and j is not
// among them.
func (a *allowedSet) refuses(j jvalue) bool {
	switch j.kind {
	case jString:
		return a.strs != nil && !a.strs[j.s]
	case jNumber:
		return a.nums != nil && !a.nums[j.n]
	case jBool:
		return a.bools != nil && !a.bools[j.b]
	}
	return false
}

// checkValues checks input_values or output_values against a field set; the
// path stack points at the values object. required says whether missing
// required fields are reported.
func (v *validator) checkValues(i int, values Values, set *fieldSet, required bool) {
	for name, val := range values {
		f := set.byName[name]
		v.push(name)
		if f == nil {
			v.add(i, "", CodeValueNotAllowed, "Unknown field name: project %s declares no %s field %q (it declares: %s): remove it, or add it to the project's %s_spec", set.project, set.which, name, set.names, set.which)
		} else {
			v.checkField(i, f, val)
		}
		v.pop(1)
	}
	if !required {
		return
	}
	for _, f := range set.required {
		if _, ok := values[f.name]; !ok {
			v.push(f.name)
			v.add(i, "", CodeValueRequired, "required %s field %q (type %s) of project %s is missing: add it to %s_values", set.which, f.name, f.typ, set.project, set.which)
			v.pop(1)
		}
	}
}

// checkField checks one declared field's value; the path stack points at it.
func (v *validator) checkField(i int, f *compiledField, val any) {
	j := classify(val)
	if j.kind == jNull {
		if f.required {
			v.add(i, "", CodeValueRequired, "required %s field %q (type %s) of project %s is null: give it a value", f.set.which, f.name, f.typ, f.set.project)
		}
		return
	}
	// toloka-api.md §14.2: types are an open set; values of unknown types
	// are not checked, though an array_ of one is still an array.
	known := knownBaseType(f.base)
	if !f.array {
		if known {
			v.checkScalar(i, f, j)
		}
		return
	}
	if j.kind != jArray {
		v.specErr(i, f, CodeArrayExpected, nil, "got %s: send a JSON array", j.describe())
		return
	}
	n := j.rv.Len()
	if f.minSize != nil && n < *f.minSize {
		v.specErr(i, f, CodeArraySizeLessThanMin, []any{*f.minSize}, "it has %d elements; give at least %d", n, *f.minSize)
	}
	if f.maxSize != nil && n > *f.maxSize {
		v.specErr(i, f, CodeArraySizeGreaterThanMax, []any{*f.maxSize}, "it has %d elements; give at most %d", n, *f.maxSize)
	}
	for k := 0; k < n && known; k++ {
		v.pushIdx(k)
		var e jvalue
		switch arr := j.raw.(type) {
		case []string: // the common case, without boxing each element
			e = jvalue{kind: jString, s: arr[k]}
		case []any:
			e = classify(arr[k])
		default:
			e = classify(j.rv.Index(k).Interface())
		}
		if e.kind == jNull {
			v.specErr(i, f, CodeValueRequired, nil, "element %d is null: remove it or give a value", k)
		} else {
			v.checkScalar(i, f, e)
		}
		v.pop(1)
	}
}

func knownBaseType(t string) bool {
	switch t {
	case FieldString, FieldInteger, FieldFloat, FieldBoolean, FieldURL, FieldCoordinates, FieldJSON, FieldFile:
		return true
	}
	return false
}

// checkScalar checks one non-null value against the scalar rules of f.base.
func (v *validator) checkScalar(i int, f *compiledField, j jvalue) {
	if (j.kind == jArray || j.kind == jObject) && f.base != FieldJSON && f.base != FieldFile {
		v.specErr(i, f, CodeSimpleValueExpected, nil, "got %s: send a single %s value%s", j.describe(), f.base, arrayHint(f))
		return
	}
	switch f.base {
	case FieldString:
		if j.kind != jString {
			v.specErr(i, f, CodeStringExpected, nil, "got %s: send a JSON string", j.describe())
			return
		}
		v.checkString(i, f, j)
	case FieldInteger:
		if j.kind != jNumber || !j.integral {
			v.specErr(i, f, CodeIntegerExpected, nil, "got %s: send a whole JSON number, without quotes", j.describe())
			return
		}
		v.checkNumber(i, f, j)
	case FieldFloat:
		if j.kind != jNumber {
			v.specErr(i, f, CodeFloatExpected, nil, "got %s: send a JSON number, without quotes", j.describe())
			return
		}
		v.checkNumber(i, f, j)
	case FieldBoolean:
		if j.kind != jBool {
			v.specErr(i, f, CodeBooleanExpected, nil, "got %s: send JSON true or false", j.describe())
			return
		}
		if f.allowed.refuses(j) {
			v.specErr(i, f, CodeValueNotAllowed, nil, "%v is not among its allowed_values", j.b)
		}
	case FieldURL:
		if j.kind != jString || !validURL(j.s) {
			v.specErr(i, f, CodeInvalidURLSyntax, nil, "got %s: a url must start with http://, https:// or www", j.describeShort())
		}
	case FieldCoordinates:
		if j.kind != jString || !validCoordinates(j.s) {
			v.specErr(i, f, CodeInvalidCoordinatesSyntax, nil, "got %s: send a string \"latitude,longitude\" such as \"53.910236,27.531110\"", j.describeShort())
		}
	case FieldJSON:
		if j.kind != jObject {
			v.specErr(i, f, CodeObjectExpected, nil, "got %s: send a JSON object (use an array_json field for a list)", j.describe())
		}
	}
}

// utf16Len is the length of s in UTF-16 code units, Java's String.length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// javaOnlySyntax reports pattern syntax that RE2 reads differently from
// Java's regular expressions (class intersection, POSIX bracket classes),
// so the SDK leaves such patterns to the server.
func javaOnlySyntax(pattern string) bool {
	return strings.Contains(pattern, "&&") || strings.Contains(pattern, "[:")
}

func arrayHint(f *compiledField) string {
	if f.array {
		return " per element"
	}
	return fmt.Sprintf(", or declare the field as %s%s", ArrayFieldPrefix, f.base)
}

func (v *validator) checkString(i int, f *compiledField, j jvalue) {
	if f.minLen != nil || f.maxLen != nil {
		// Toloka's backend counts characters as Java does, in UTF-16 units,
		// or perhaps in code points. The minimum is checked against the
		// larger count (UTF-16) and the maximum against the smaller (code
		// points), so neither refuses a value the server accepts.
		n := utf8.RuneCountInString(j.s)
		if f.minLen != nil && utf16Len(j.s) < *f.minLen {
			v.specErr(i, f, CodeStringLengthLessThanMin, []any{*f.minLen}, "it is %d characters long; give at least %d", n, *f.minLen)
		}
		if f.maxLen != nil && n > *f.maxLen {
			v.specErr(i, f, CodeStringLengthGreaterThanMax, []any{*f.maxLen}, "it is %d characters long; give at most %d", n, *f.maxLen)
		}
	}
	if f.allowed.refuses(j) {
		v.specErr(i, f, CodeValueNotAllowed, nil, "%s is not among its allowed_values", j.describeShort())
	}
	if f.pattern != nil && !f.pattern.MatchString(j.s) {
		v.specErr(i, f, CodePatternMismatch, []any{f.pattern.String()}, "%s does not match its pattern %s", j.describeShort(), f.pattern)
	}
}

func (v *validator) checkNumber(i int, f *compiledField, j jvalue) {
	if f.minVal != nil && j.n < *f.minVal {
		v.specErr(i, f, CodeValueLessThanMin, []any{*f.minVal}, "%s is below its min_value %v", j.num(), *f.minVal)
	}
	if f.maxVal != nil && j.n > *f.maxVal {
		v.specErr(i, f, CodeValueGreaterThanMax, []any{*f.maxVal}, "%s is above its max_value %v", j.num(), *f.maxVal)
	}
	if f.allowed.refuses(j) {
		v.specErr(i, f, CodeValueNotAllowed, nil, "%s is not among its allowed_values", j.num())
	}
}

// specErr reports a value that breaks field f's rule, naming the field, its
// type and project, then what is wrong and how to fix it.
func (v *validator) specErr(i int, f *compiledField, code string, params []any, format string, args ...any) {
	v.addP(i, "", code, params, "%s field %q (type %s, project %s): %s", f.set.which, f.name, f.typ, f.set.project, fmt.Sprintf(format, args...))
}

// validURL applies the one documented rule (toloka-api.md §14.3): the value
// starts with http://, https:// or www.
func validURL(s string) bool {
	return hasPrefixFold(s, "http://") || hasPrefixFold(s, "https://") || hasPrefixFold(s, "www")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validCoordinates accepts "lat,lon" with optional spaces around either
// number (both forms appear in Toloka's docs, toloka-api.md §14.3). Ranges
// are not checked: the docs state none.
func validCoordinates(s string) bool {
	lat, lon, ok := strings.Cut(s, ",")
	return ok && isDecimal(strings.TrimSpace(lat)) && isDecimal(strings.TrimSpace(lon))
}

// isDecimal matches [+-]?digits[.digits], also "1." and ".5".
func isDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dot := 0, false
	for k := 0; k < len(s); k++ {
		switch c := s[k]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// jkind is the JSON kind of a value in Values.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
	jInvalid // cannot be encoded; the request encoding will fail
)

// jvalue is a value of Values seen as JSON.
type jvalue struct {
	kind     jkind
	s        string
	n        float64
	integral bool
	b        bool
	rv       reflect.Value // the array, for jArray
	raw      any           // the value, where messages need it (not for strings)
}

// classify tells the JSON kind of v as encoding/json would write it, with
// fast paths for what decoding and typical callers put into Values and
// reflection for the rest. Types with their own MarshalJSON or MarshalText
// are encoded and decoded once to see what they become.
func classify(v any) jvalue {
	switch x := v.(type) {
	case nil:
		return jvalue{kind: jNull}
	case string:
		return jvalue{kind: jString, s: x}
	case bool:
		return jvalue{kind: jBool, b: x, raw: v}
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !isRangeErr(err) {
			return jvalue{kind: jInvalid, raw: v}
		}
		return jvalue{kind: jNumber, n: f, integral: !strings.ContainsAny(string(x), ".eE") || isWhole(f), raw: v}
	case float64:
		return jvalue{kind: jNumber, n: x, integral: isWhole(x), raw: v}
	case int:
		return jvalue{kind: jNumber, n: float64(x), integral: true, raw: v}
	case int64:
		return jvalue{kind: jNumber, n: float64(x), integral: true, raw: v}
	case map[string]any, Values:
		return jvalue{kind: jObject, raw: v}
	case []any, []string:
		return jvalue{kind: jArray, rv: reflect.ValueOf(v), raw: v}
	case json.Marshaler:
		return classifyEncoded(v)
	}
	return classifyReflect(v)
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func isWhole(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }

// hasCustomEncoding reports whether encoding/json would call a method of t
// rather than look at its kind.
func hasCustomEncoding(t reflect.Type) bool {
	return t.Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]())
}

func classifyReflect(v any) jvalue {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return jvalue{kind: jNull}
		}
		if hasCustomEncoding(rv.Type()) {
			return classifyEncoded(rv.Interface())
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return jvalue{kind: jNull}
	}
	if hasCustomEncoding(rv.Type()) {
		return classifyEncoded(rv.Interface())
	}
	switch rv.Kind() {
	case reflect.Bool:
		return jvalue{kind: jBool, b: rv.Bool(), raw: v}
	case reflect.String:
		return jvalue{kind: jString, s: rv.String(), raw: v}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return jvalue{kind: jNumber, n: float64(rv.Int()), integral: true, raw: v}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return jvalue{kind: jNumber, n: float64(rv.Uint()), integral: true, raw: v}
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		return jvalue{kind: jNumber, n: f, integral: isWhole(f), raw: v}
	case reflect.Slice:
		if rv.IsNil() {
			return jvalue{kind: jNull}
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return jvalue{kind: jString, s: "(base64 bytes)", raw: v} // encoding/json writes []byte as base64
		}
		return jvalue{kind: jArray, rv: rv, raw: v}
	case reflect.Array:
		return jvalue{kind: jArray, rv: rv, raw: v}
	case reflect.Map:
		if rv.IsNil() {
			return jvalue{kind: jNull}
		}
		return jvalue{kind: jObject, raw: v}
	case reflect.Struct:
		return jvalue{kind: jObject, raw: v}
	}
	return jvalue{kind: jInvalid, raw: v}
}

// classifyEncoded classifies a value with custom encoding by encoding it.
func classifyEncoded(v any) jvalue {
	data, err := json.Marshal(v)
	if err != nil {
		return jvalue{kind: jInvalid, raw: v}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var decoded any
	if err := dec.Decode(&decoded); err != nil {
		return jvalue{kind: jInvalid, raw: v}
	}
	return classify(decoded)
}

// describe names a value's kind for messages.
func (j jvalue) describe() string {
	switch j.kind {
	case jNull:
		return "null"
	case jBool:
		return fmt.Sprintf("the boolean %v", j.b)
	case jNumber:
		return "the number " + j.num()
	case jString:
		return "the string " + quoteShort(j.s)
	case jArray:
		return "an array"
	case jObject:
		return "an object"
	}
	return fmt.Sprintf("a %T that cannot be encoded as JSON", j.raw)
}

// describeShort is describe for values expected to be strings.
func (j jvalue) describeShort() string {
	if j.kind == jString {
		return quoteShort(j.s)
	}
	return j.describe()
}

func (j jvalue) num() string {
	if n, ok := j.raw.(json.Number); ok {
		return string(n)
	}
	return strconv.FormatFloat(j.n, 'g', -1, 64)
}

// quoteShort quotes s for a message, cut to 60 bytes.
func quoteShort(s string) string {
	if len(s) > 60 {
		cut := 60
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
