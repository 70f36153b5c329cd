package postmortem

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"text/template/parse"
)

// template.md is text/template syntax, parsed by text/template's own parser
// (text/template/parse) and executed here, by a small executor of the
// subset the template uses: fields, ".", if/else, range/else, define and
// template, parenthesised pipelines, and the functions below. Not by
// text/template's executor: it calls reflect.Value.MethodByName with names
// known only at run time, which makes the linker keep every exported method
// of every type in the binary: the postmortem function's bootstrap was
// 15,925,410 bytes with it, 9,699,490 without (README "Bootstrap size").
// TestExecutorMatchesTextTemplate renders the golden inputs with both and
// compares them byte for byte.

// Funcs returns the template's functions (besides len, eq, not, or, and),
// for the test that runs the template under text/template. They are built
// on call, not at package initialisation: every function's bootstrap links
// this package (through package wiring), and only the postmortem function
// renders.
func Funcs() map[string]func(string) string {
	return map[string]func(string) string{"indent": indent, "code": code, "cell": cell}
}

// indent puts every line after the first under a list item.
func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n  ") }

// code quotes s as inline code, whatever backticks it holds.
func code(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// cell makes s safe in a table cell.
func cell(s string) string { return strings.ReplaceAll(oneLine(s), "|", `\|`) }

// Template is template.md, for the test that runs it under text/template.
func Template() string { return templateText }

var (
	parseOnce sync.Once
	parsed    map[string]*parse.Tree
	parseErr  error
)

// trees parses template.md once, on first use.
func trees() (map[string]*parse.Tree, error) {
	parseOnce.Do(func() {
		names := map[string]any{"len": true, "eq": true, "not": true, "or": true, "and": true,
			"indent": true, "code": true, "cell": true}
		parsed, parseErr = parse.Parse("postmortem", templateText, "", "", names)
	})
	return parsed, parseErr
}

func execute(d Document) ([]byte, error) {
	ts, err := trees()
	if err != nil {
		return nil, err
	}
	e := &executor{trees: ts}
	if err := e.walk(reflect.ValueOf(d), ts["postmortem"].Root); err != nil {
		return nil, err
	}
	return e.out.Bytes(), nil
}

type executor struct {
	trees map[string]*parse.Tree
	out   bytes.Buffer
}

func (e *executor) walk(dot reflect.Value, n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			if err := e.walk(dot, c); err != nil {
				return err
			}
		}
	case *parse.TextNode:
		e.out.Write(n.Text)
	case *parse.ActionNode:
		v, err := e.pipe(dot, n.Pipe)
		if err != nil {
			return err
		}
		fmt.Fprint(&e.out, v.Interface())
	case *parse.IfNode:
		v, err := e.pipe(dot, n.Pipe)
		if err != nil {
			return err
		}
		if truth(v) {
			return e.walk(dot, n.List)
		}
		if n.ElseList != nil {
			return e.walk(dot, n.ElseList)
		}
	case *parse.RangeNode:
		v, err := e.pipe(dot, n.Pipe)
		if err != nil {
			return err
		}
		v = indirect(v)
		if v.Kind() != reflect.Slice {
			return fmt.Errorf("offset %d: range over %s, want a slice", n.Position(), v.Kind())
		}
		if v.Len() == 0 {
			if n.ElseList != nil {
				return e.walk(dot, n.ElseList)
			}
			return nil
		}
		for i := range v.Len() {
			if err := e.walk(v.Index(i), n.List); err != nil {
				return err
			}
		}
	case *parse.TemplateNode:
		t, ok := e.trees[n.Name]
		if !ok {
			return fmt.Errorf("offset %d: no template %q", n.Position(), n.Name)
		}
		d := dot
		if n.Pipe != nil {
			v, err := e.pipe(dot, n.Pipe)
			if err != nil {
				return err
			}
			d = v
		}
		return e.walk(d, t.Root)
	default:
		return fmt.Errorf("offset %d: %T is not supported", n.Position(), n)
	}
	return nil
}

func (e *executor) pipe(dot reflect.Value, p *parse.PipeNode) (reflect.Value, error) {
	if len(p.Decl) > 0 {
		return reflect.Value{}, fmt.Errorf("offset %d: variables are not supported", p.Position())
	}
	var v reflect.Value
	for i, c := range p.Cmds {
		var err error
		if v, err = e.command(dot, c, v, i > 0); err != nil {
			return reflect.Value{}, err
		}
	}
	return v, nil
}

func (e *executor) command(dot reflect.Value, c *parse.CommandNode, final reflect.Value, hasFinal bool) (reflect.Value, error) {
	id, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok {
		if len(c.Args) > 1 || hasFinal {
			return reflect.Value{}, fmt.Errorf("offset %d: %s is not a function", c.Position(), c.Args[0])
		}
		return e.arg(dot, c.Args[0])
	}
	var args []reflect.Value
	for _, a := range c.Args[1:] {
		v, err := e.arg(dot, a)
		if err != nil {
			return reflect.Value{}, err
		}
		args = append(args, v)
	}
	if hasFinal {
		args = append(args, final)
	}
	return call(c, id.Ident, args)
}

func (e *executor) arg(dot reflect.Value, n parse.Node) (reflect.Value, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot, nil
	case *parse.FieldNode:
		v := dot
		for _, name := range n.Ident {
			v = indirect(v)
			if v.Kind() != reflect.Struct {
				return reflect.Value{}, fmt.Errorf("offset %d: field %s of a %s", n.Position(), name, v.Kind())
			}
			f := v.FieldByName(name)
			if !f.IsValid() {
				return reflect.Value{}, fmt.Errorf("offset %d: no field %s in %s", n.Position(), name, v.Type())
			}
			v = f
		}
		return v, nil
	case *parse.PipeNode:
		return e.pipe(dot, n)
	case *parse.StringNode:
		return reflect.ValueOf(n.Text), nil
	case *parse.NumberNode:
		if !n.IsInt {
			return reflect.Value{}, fmt.Errorf("offset %d: only integers are supported", n.Position())
		}
		return reflect.ValueOf(int(n.Int64)), nil
	case *parse.BoolNode:
		return reflect.ValueOf(n.True), nil
	}
	return reflect.Value{}, fmt.Errorf("offset %d: %T is not supported", n.Position(), n)
}

func call(c *parse.CommandNode, name string, args []reflect.Value) (reflect.Value, error) {
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("offset %d: %s takes %d arguments, got %d", c.Position(), name, n, len(args))
		}
		return nil
	}
	switch name {
	case "len":
		if err := want(1); err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(indirect(args[0]).Len()), nil
	case "not":
		if err := want(1); err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(!truth(args[0])), nil
	case "eq":
		if err := want(2); err != nil {
			return reflect.Value{}, err
		}
		a, b := indirect(args[0]), indirect(args[1])
		if !a.IsValid() || !b.IsValid() || !a.Comparable() || !b.Comparable() || a.Type() != b.Type() {
			return reflect.Value{}, fmt.Errorf("offset %d: eq of %s and %s", c.Position(), a.Kind(), b.Kind())
		}
		return reflect.ValueOf(a.Equal(b)), nil
	case "or", "and":
		if len(args) == 0 {
			return reflect.Value{}, fmt.Errorf("offset %d: %s of nothing", c.Position(), name)
		}
		for _, a := range args[:len(args)-1] {
			if truth(a) == (name == "or") {
				return a, nil
			}
		}
		return args[len(args)-1], nil
	}
	var f func(string) string
	switch name {
	case "indent":
		f = indent
	case "code":
		f = code
	case "cell":
		f = cell
	default:
		return reflect.Value{}, fmt.Errorf("offset %d: no function %s", c.Position(), name)
	}
	if err := want(1); err != nil {
		return reflect.Value{}, err
	}
	s := indirect(args[0])
	if s.Kind() != reflect.String {
		return reflect.Value{}, fmt.Errorf("offset %d: %s of a %s, want a string", c.Position(), name, s.Kind())
	}
	return reflect.ValueOf(f(s.String())), nil
}

// indirect follows pointers and interfaces.
func indirect(v reflect.Value) reflect.Value {
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && !v.IsNil() {
		v = v.Elem()
	}
	return v
}

// truth is text/template's: the zero value, an empty slice, string or map,
// a nil pointer are false.
func truth(v reflect.Value) bool {
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String, reflect.Array:
		return v.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int64:
		return v.Int() != 0
	case reflect.Struct:
		return true
	}
	return !v.IsZero()
}
