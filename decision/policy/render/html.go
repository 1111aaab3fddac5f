package render

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed templates/written-policy.html
var htmlText string

// htmlTemplate is parsed once; a template is safe for concurrent use.
var htmlTemplate = template.Must(template.New("written-policy").Parse(htmlText))

// HTML writes the written policy as one self-contained HTML page.
func HTML(w io.Writer, in Input) error {
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, build(in)); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	return nil
}
