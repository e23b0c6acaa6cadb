package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// calendarMethods read or make a calendar date (or a local time of day)
// out of a time.
var calendarMethods = map[string]bool{
	"In": true, "Local": true, "Format": true, "AppendFormat": true, "AddDate": true, "Date": true, "Clock": true,
	"Weekday": true, "Year": true, "YearDay": true, "Month": true, "Day": true, "Hour": true, "ISOWeek": true,
}

// clockMakers take the time a test's clock starts at.
var clockMakers = map[string]bool{"NewManualClock": true, "NewRunningClock": true, "Set": true}

// TestNoTestChoosesItsDateFromTheWallClock keeps the suite passing on any
// date: a test whose clock starts at time.Now(), or that reads a date or a
// local hour off time.Now(), passes or fails with the day it runs on.
// Tests choose their dates (ClockDates, or a date of their own with the
// reason beside it); time.Now() stays for deadlines, elapsed time and
// signatures that outside protocols check against the wall clock.
func TestNoTestChoosesItsDateFromTheWallClock(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				name = fn.Sel.Name
				if calendarMethods[name] && isNow(fn.X) {
					found = append(found, fset.Position(call.Pos()).String()+": time.Now()."+name)
				}
			case *ast.Ident:
				name = fn.Name
			}
			if clockMakers[name] {
				for _, a := range call.Args {
					if containsNow(a) {
						found = append(found, fset.Position(call.Pos()).String()+": a clock set from time.Now()")
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: choose the date (testenv.ClockDates) instead of taking today's", f)
	}
}

// isNow reports whether e is time.Now(), or a chain of Add, Truncate or
// Round on it.
func isNow(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && sel.Sel.Name == "Now" {
		return true
	}
	switch sel.Sel.Name {
	case "Add", "Truncate", "Round", "UTC":
		return isNow(sel.X)
	}
	return false
}

func containsNow(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if x, ok := n.(ast.Expr); ok && isNow(x) {
			found = true
		}
		return !found
	})
	return found
}
