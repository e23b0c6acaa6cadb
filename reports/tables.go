package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/cityhall/duban"
)

// Table is one table of a report as it is downloaded: a sheet of the .xlsx
// file, a block of the .csv file.
type Table struct {
	Name    string   // the sheet's name: by_category, closing, …
	Title   string   // in the reader's language
	Columns []string // headings, in the reader's language
	Rows    [][]any  // cells: string, int or float64
}

// Tables is a report's tables, in the reader's language.
type Tables []Table

// Tables renders the appearance report as tables: the whole range, and
// each period when grouped.
func (a *Appearance) Tables(t Translator, locale string) Tables {
	cols := []string{t.T(locale, "reports.col.agency", nil), t.T(locale, "reports.col.name", nil),
		t.T(locale, "reports.col.held", nil), t.T(locale, "reports.col.head", nil), t.T(locale, "reports.col.deputy", nil),
		t.T(locale, "reports.col.none", nil), t.T(locale, "reports.col.rate", nil)}
	total := t.T(locale, "reports.total", nil)
	rows := func(ls []AppearanceLine, tot AppearanceLine) [][]any {
		out := make([][]any, 0, len(ls)+1)
		for _, l := range ls {
			out = append(out, []any{l.Agency, l.Name, l.Held, l.Head, l.Deputy, l.None, l.Rate})
		}
		return append(out, []any{total, "", tot.Held, tot.Head, tot.Deputy, tot.None, tot.Rate})
	}
	out := Tables{{Name: "appearance", Title: t.T(locale, "reports.appearance.title", map[string]any{"Range": a.Range.String()}),
		Columns: cols, Rows: rows(a.Agencies, a.Total)}}
	if a.By != Whole {
		byCols := append([]string{t.T(locale, "reports.col.period", nil)}, cols...)
		var rs [][]any
		for _, p := range a.Periods {
			for _, r := range rows(p.Agencies, p.Total) {
				rs = append(rs, append([]any{p.Period}, r...))
			}
		}
		out = append(out, Table{Name: "appearance_by_" + string(a.By), Title: t.T(locale, "reports.appearance.by_"+string(a.By), nil),
			Columns: byCols, Rows: rs})
	}
	return out
}

// Tables renders the complaints report as tables.
func (c *Complaints) Tables(t Translator, locale string) Tables {
	n := t.T(locale, "reports.col.count", nil)
	counts := func(name, idPrefix string, keys []string, m map[string]int) Table {
		tb := Table{Name: name, Title: t.T(locale, "reports.complaints."+name, map[string]any{"Range": c.Range.String()}),
			Columns: []string{t.T(locale, "reports.col."+name, nil), n}}
		for _, k := range keys {
			label := k
			if idPrefix != "" {
				label = t.T(locale, idPrefix+k, nil)
			}
			tb.Rows = append(tb.Rows, []any{label, m[k]})
		}
		return tb
	}
	agencies := slices.Sorted(keys(c.ByAgency))
	byAgency := counts("by_agency", "", agencies, c.ByAgency)
	if c.NoAgency > 0 {
		byAgency.Rows = append(byAgency.Rows, []any{t.T(locale, "reports.no_agency", nil), c.NoAgency})
	}
	out := Tables{
		counts("by_category", "category.", names(duban.Categories), c.ByCategory),
		counts("by_source", "source.", names(duban.Sources), c.BySource),
		counts("by_status", "complaint.status.", names(duban.ComplaintStatuses), c.ByStatus),
		byAgency,
		counts("by_month", "", slices.Sorted(keys(c.ByMonth)), c.ByMonth),
	}
	closing := Table{Name: "closing", Title: t.T(locale, "reports.complaints.closing", map[string]any{"Range": c.Range.String()}),
		Columns: []string{t.T(locale, "reports.col.agency", nil), t.T(locale, "reports.col.name", nil),
			t.T(locale, "reports.col.closed", nil), t.T(locale, "reports.col.on_time", nil),
			t.T(locale, "reports.col.on_time_rate", nil), t.T(locale, "reports.col.avg_days", nil)}}
	for _, l := range c.Closing {
		closing.Rows = append(closing.Rows, []any{l.Agency, l.Name, l.Closed, l.OnTime, l.OnTimeRate, l.AvgWorkingDays})
	}
	sat := Table{Name: "satisfaction", Title: t.T(locale, "reports.complaints.satisfaction", map[string]any{"Range": c.Range.String()}),
		Columns: []string{t.T(locale, "reports.col.agency", nil), t.T(locale, "reports.col.name", nil),
			t.T(locale, "reports.col.rated", nil), t.T(locale, "reports.col.average", nil), "1", "2", "3", "4", "5"}}
	for _, l := range c.Satisfaction {
		sat.Rows = append(sat.Rows, []any{l.Agency, l.Name, l.Rated, l.Average, l.Ratings[0], l.Ratings[1], l.Ratings[2], l.Ratings[3], l.Ratings[4]})
	}
	return append(out, closing, sat)
}

func keys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func names[T ~string](xs []T) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

// bom starts a CSV file so that Excel reads it as UTF-8 (Chinese text
// otherwise opens garbled).
const bom = "\ufeff"

// WriteCSV writes the tables one after another, each as its title, its
// headings and its rows, with a blank line between tables.
func (ts Tables) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, bom); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	for i, t := range ts {
		if i > 0 {
			if err := cw.Write(nil); err != nil {
				return err
			}
		}
		if err := cw.Write([]string{t.Title}); err != nil {
			return err
		}
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, r := range t.Rows {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = cellText(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func cellText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// WriteXLSX writes the tables as an Excel workbook, one sheet a table:
// the title in the first row, bold headings in the second, numbers as
// numbers.
func (ts Tables) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("xlsx style: %w", err)
	}
	for i, t := range ts {
		sheet := t.Name
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				return fmt.Errorf("xlsx sheet %s: %w", sheet, err)
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			return fmt.Errorf("xlsx sheet %s: %w", sheet, err)
		}
		if err := f.SetCellValue(sheet, "A1", t.Title); err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, "A2", &t.Columns); err != nil {
			return err
		}
		last, _ := excelize.CoordinatesToCellName(max(len(t.Columns), 1), 2)
		if err := f.SetCellStyle(sheet, "A2", last, bold); err != nil {
			return err
		}
		for j, r := range t.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, j+3)
			row := r
			if err := f.SetSheetRow(sheet, cell, &row); err != nil {
				return fmt.Errorf("xlsx %s row %d: %w", sheet, j+1, err)
			}
		}
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
