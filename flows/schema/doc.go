// Package schema holds the JSON Schemas (draft 2020-12) of the files of a
// flows directory, for editors (yaml-language-server reads the modeline
// "# yaml-language-server: $schema=schema/flow.schema.json"):
//
//   - flow.schema.json: flow and subflow files, the prompt catalogue,
//     calendars and announcements (by kind:);
//   - test.schema.json: the scenario files of flows/tests.
//
// The loaders (package ivr, package ivr/scenario) are the authority; the
// tests of this package check the schemas name every node type, field and
// exit the loaders accept, and validate the sample and fixture files with
// them, so that the schemas cannot silently fall behind the code.
package schema
