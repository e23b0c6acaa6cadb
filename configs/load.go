package configs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// key is one setting of Config as the outside names it.
type key struct {
	index  int    // field index in Config
	yaml   string // name in the YAML file
	env    string // environment variable
	secret bool   // a Secret, so DUBAN_X_FILE is read too
}

var (
	durationType  = reflect.TypeFor[time.Duration]()
	durationsType = reflect.TypeFor[[]time.Duration]()
	secretType    = reflect.TypeFor[Secret]()
)

// keys lists every settable field of Config, read once from its struct tags.
var keys = func() []key {
	t := reflect.TypeFor[Config]()
	var ks []key
	for i := range t.NumField() {
		f := t.Field(i)
		y := f.Tag.Get("yaml")
		if y == "-" {
			continue
		}
		env := f.Tag.Get("env")
		if y == "" || env != "DUBAN_"+strings.ToUpper(y) {
			panic(fmt.Sprintf("configs: field %s wants tags yaml:%q env:%q", f.Name, y, "DUBAN_"+strings.ToUpper(y)))
		}
		ks = append(ks, key{index: i, yaml: y, env: env, secret: f.Type == secretType})
	}
	return ks
}()

func keyByYAML(name string) (key, bool) {
	for _, k := range keys {
		if k.yaml == name {
			return k, true
		}
	}
	return key{}, false
}

// Load returns the defaults, overlaid by the YAML file at path (or at
// $DUBAN_CONFIG when path is empty), overlaid by the environment variables
// DUBAN_<KEY> and, for every secret, DUBAN_<KEY>_FILE, and then validated.
// getenv is the only way the environment is read (os.Getenv in main, a map in
// tests); an empty variable counts as unset. Every error is one line naming
// the key, as its environment variable where it has one; errors in values
// match duban.ErrInvalid.
func Load(path string, getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Default()
	if path == "" {
		path = getenv("DUBAN_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("config file: %w", err)
		}
		if err := applyYAML(&c, path, data); err != nil {
			return Config{}, err
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// applyYAML sets every key the YAML document in data holds. It walks the
// document by hand instead of decoding into Config with KnownFields(true),
// because yaml.v3's errors span lines and name the Go type rather than the
// key; here each problem names the key and its line.
func applyYAML(c *Config, name string, data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty, or comments only
		}
		return invalid(fmt.Sprintf("%s: %s", name, oneLine(err.Error())))
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return invalid(fmt.Sprintf("%s: holds more than one YAML document", name))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return invalid(fmt.Sprintf("%s line %d: want key: value lines at the top level", name, root.Line))
	}
	var p problems
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		kn, vn := root.Content[i], root.Content[i+1]
		k, ok := keyByYAML(kn.Value)
		if !ok {
			p = append(p, fmt.Sprintf("%s line %d: unknown key %q%s", name, kn.Line, kn.Value, suggest(kn.Value)))
			continue
		}
		if first, dup := seen[k.yaml]; dup {
			p = append(p, fmt.Sprintf("%s line %d: %s is already set on line %d", name, kn.Line, k.yaml, first))
			continue
		}
		seen[k.yaml] = kn.Line
		raw, err := scalar(vn, k)
		if err == nil {
			err = set(c, k, raw)
		}
		if err != nil {
			p.add(fmt.Sprintf("%s (%s line %d)", k.env, name, vn.Line), "%v", err)
		}
	}
	return p.err()
}

// scalar returns the text of a YAML value; a list is joined with commas for
// the one list-valued kind of key, and null is empty.
func scalar(n *yaml.Node, k key) (string, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "", nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		if reflect.TypeFor[Config]().Field(k.index).Type.Kind() != reflect.Slice {
			return "", errors.New("want one value, got a list")
		}
		items := make([]string, len(n.Content))
		for i, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				return "", errors.New("want a list of plain values")
			}
			items[i] = it.Value
		}
		return strings.Join(items, ","), nil
	default:
		return "", errors.New("want a plain value, got a mapping")
	}
}

// applyEnv sets every key whose environment variable is non-empty, and every
// secret whose DUBAN_<KEY>_FILE names a file.
func applyEnv(c *Config, getenv func(string) string) error {
	var p problems
	for _, k := range keys {
		v := getenv(k.env)
		if k.secret {
			if file := getenv(k.env + "_FILE"); file != "" {
				if v != "" {
					p.add(k.env, "both %s and %s_FILE are set; set one", k.env, k.env)
					continue
				}
				data, err := os.ReadFile(file)
				if err != nil {
					p.add(k.env+"_FILE", "%v", err)
					continue
				}
				// Editors and echo end files with a newline; no token does.
				v = strings.TrimRight(string(data), "\r\n")
				if v == "" {
					p.add(k.env+"_FILE", "%s is empty", file)
					continue
				}
			}
		}
		if v == "" {
			continue
		}
		if err := set(c, k, v); err != nil {
			p.add(k.env, "%v", err)
		}
	}
	return p.err()
}

// set parses raw into the field of k. Its errors never quote a secret: a
// Secret is a string and cannot fail to parse.
func set(c *Config, k key, raw string) error {
	f := reflect.ValueOf(c).Elem().Field(k.index)
	if !k.secret {
		raw = strings.TrimSpace(raw)
	}
	switch f.Type() {
	case durationType:
		d, err := parseDuration(raw, "want a Go duration like 24h or 90m")
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	case durationsType:
		ds, err := parseDurations(raw)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(ds))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		f.SetBool(b)
	case reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		f.SetInt(int64(n))
	default:
		panic("configs: no parser for " + f.Type().String())
	}
	return nil
}

func parseDuration(s, want string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil {
		return d, nil
	}
	if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && strings.HasSuffix(s, "d") {
		return 0, fmt.Errorf("%q is not a duration (Go durations stop at hours: write %dh)", s, n*24)
	}
	return 0, fmt.Errorf("%q is not a duration (%s)", s, want)
}

// parseDurations reads "168h,72h"; an empty string is an empty list, which
// Validate refuses with the reason.
func parseDurations(s string) ([]time.Duration, error) {
	if s == "" {
		return []time.Duration{}, nil
	}
	parts := strings.Split(s, ",")
	ds := make([]time.Duration, 0, len(parts))
	for _, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("%q has an empty item (want Go durations like 72h,24h)", s)
		}
		d, err := parseDuration(part, "want Go durations like 72h,24h")
		if err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// suggest names the key an unknown YAML key was probably meant to be:
// the environment spelling, dashes, case, or a typo of up to two letters.
func suggest(name string) string {
	norm := func(s string) string {
		s = strings.TrimPrefix(strings.ToLower(s), "duban_")
		return strings.NewReplacer("_", "", "-", "").Replace(s)
	}
	if base, ok := strings.CutSuffix(strings.ToLower(name), "_file"); ok {
		env := "DUBAN_" + strings.ToUpper(strings.TrimPrefix(base, "duban_"))
		return fmt.Sprintf(" (secrets are read from files through the environment only: %s_FILE)", env)
	}
	n := norm(name)
	for _, k := range keys {
		if m := norm(k.yaml); m == n || distance(m, n) <= 2 {
			return fmt.Sprintf(" (did you mean %s?)", k.yaml)
		}
	}
	return ""
}

// distance is the Levenshtein distance of a and b, counted in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
