package configs

import _ "embed"

// Example is configs/duban.example.yaml: every key with its default and what
// it means. Tests hold it equal to Default, so it can be printed as a
// starting point (for instance by a "duban config example" command).
//
//go:embed duban.example.yaml
var Example []byte
