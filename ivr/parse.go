package ivr

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits that keep a broken or hostile file from making the loader slow:
// the YAML parser's cost grows with the square of the nesting depth and of
// the number of keys in one block map.
const (
	maxFileSize = 1 << 20 // bytes
	maxDepth    = 32      // nested maps and lists; a flow needs about 5
	maxKeys     = 10000   // "key:" lines in block maps; a big flow has a few thousand
)

// errReported means the problem has already been reported as an Issue.
var errReported = errors.New("reported")

// yamlError is the part of the YAML library's errors we use.
type yamlError interface {
	GetToken() *token.Token
	GetMessage() string
}

// parseYAML parses one flow file into its document body. Problems are
// reported to s; ok is false when there is nothing to compile.
func parseYAML(src []byte, s scope) (body ast.Node, ok bool) {
	if len(src) > maxFileSize {
		s.errorf(Pos{}, "file is %d bytes; a flow file may be at most %d bytes: split the flow", len(src), maxFileSize)
		return nil, false
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // a byte-order mark some editors write
	if !utf8.Valid(src) {
		s.errorf(invalidUTF8Pos(src), "the file is not UTF-8 text; save it as UTF-8")
		return nil, false
	}
	if i := bytes.IndexByte(src, 0); i >= 0 {
		s.errorf(offsetPos(src, i), "the file contains a NUL byte; it must be plain text")
		return nil, false
	}
	f, err := parseGuarded(src, s)
	if errors.Is(err, errReported) {
		return nil, false
	}
	if err != nil {
		var ye yamlError
		if errors.As(err, &ye) {
			p := Pos{}
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				p = Pos{Line: tk.Position.Line, Col: tk.Position.Column}
			}
			s.errorf(p, "YAML syntax error: %s%s", ye.GetMessage(), syntaxHint(src, p))
		} else {
			s.errorf(Pos{}, "YAML syntax error: %v", err)
		}
		return nil, false
	}
	if f == nil {
		s.errorf(Pos{}, "the file is empty; a flow needs start: and nodes:")
		return nil, false
	}
	for _, d := range f.Docs {
		if d == nil || isNull(d.Body) {
			continue
		}
		if body != nil {
			s.errorf(posOf(d.Body), "a file holds one flow; this second document (after ---) must go in its own file")
			break
		}
		body = d.Body
	}
	if body == nil {
		s.errorf(Pos{}, "the file is empty; a flow needs start: and nodes:")
		return nil, false
	}
	return body, true
}

// parseGuarded runs the YAML lexer and parser, refusing input nested too
// deeply and turning a panic inside the library into an error, so a broken
// file can never take the loader down.
func parseGuarded(src []byte, s scope) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser failed on this file (%v); check the syntax around the last edit", r)
		}
	}()
	tokens := lexer.Tokenize(string(src))
	if tk := tokens.InvalidToken(); tk != nil {
		return parser.Parse(tokens, 0) // reports the invalid token as a syntax error
	}
	if p, msg := tooBig(tokens); msg != "" {
		s.errorf(p, "%s", msg)
		return nil, errReported
	}
	return parser.Parse(tokens, 0, parser.AllowDuplicateMapKey()) // duplicates are reported by the loader, with both lines
}

// tooBig finds the first token nested more than maxDepth levels deep
// (counting flow collections, [ ] and { }, and block collections by their
// indentation) or past maxKeys block map keys, and says what is wrong.
func tooBig(tokens token.Tokens) (Pos, string) {
	flow, keys := 0, 0
	var block []int // columns of the open block collections
	for _, tk := range tokens {
		if tk == nil || tk.Position == nil {
			continue
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(0, flow-1)
		case token.SequenceEntryType, token.MappingValueType:
			if flow > 0 {
				continue
			}
			col := tk.Position.Column
			if tk.Type == token.MappingValueType {
				if keys++; keys > maxKeys {
					return Pos{Line: tk.Position.Line, Col: tk.Position.Column},
						fmt.Sprintf("the file has more than %d keys; a flow needs far fewer: split it into several flows", maxKeys)
				}
				if tk.Prev != nil && tk.Prev.Position != nil {
					col = tk.Prev.Position.Column // the key's column
				}
			}
			for len(block) > 0 && block[len(block)-1] >= col {
				block = block[:len(block)-1]
			}
			block = append(block, col)
		default:
			continue
		}
		if flow+len(block) > maxDepth {
			return Pos{Line: tk.Position.Line, Col: tk.Position.Column},
				fmt.Sprintf("maps and lists are nested more than %d levels deep here; a flow needs far fewer, check the indentation", maxDepth)
		}
	}
	return Pos{}, ""
}

// syntaxHint adds advice for the commonest syntax mistakes.
func syntaxHint(src []byte, p Pos) string {
	if p.Line > 0 {
		lines := bytes.Split(src, []byte("\n"))
		if p.Line <= len(lines) && bytes.ContainsRune(lines[p.Line-1], '\t') {
			return " (the line has a tab: indent with spaces only)"
		}
	}
	return " (check the indentation: keys of one map line up, with spaces only; quote values containing : # * & or {)"
}

func offsetPos(src []byte, off int) Pos {
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return Pos{Line: line, Col: 1 + utf8.RuneCount(src[start:off])}
}

func invalidUTF8Pos(src []byte) Pos {
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return offsetPos(src, i)
		}
		i += n
	}
	return Pos{}
}
