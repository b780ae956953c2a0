package scenario

import (
	"reflect"
	"strings"
)

// Format lists the keys a scenario file accepts, by section: "file",
// "defaults", "case", "customer", "webhook", "expect" and "expect.queue";
// for tools that must agree with the parser (the JSON Schema of scenario
// files and its test).
func Format() map[string][]string {
	return map[string][]string{
		"file":         yamlKeys(reflect.TypeFor[rawFile]()),
		"defaults":     yamlKeys(reflect.TypeFor[rawSetup]()),
		"case":         yamlKeys(reflect.TypeFor[rawCase]()),
		"customer":     yamlKeys(reflect.TypeFor[rawCustomer]()),
		"webhook":      yamlKeys(reflect.TypeFor[rawWebhook]()),
		"expect":       yamlKeys(reflect.TypeFor[rawExpect]()),
		"expect.queue": yamlKeys(reflect.TypeFor[rawQueueExpect]()),
	}
}

// yamlKeys returns the yaml keys of a struct's fields, inline ones
// expanded, in field order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		tag, ok := f.Tag.Lookup("yaml")
		if !ok || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			keys = append(keys, yamlKeys(f.Type)...)
			continue
		}
		keys = append(keys, name)
	}
	return keys
}
