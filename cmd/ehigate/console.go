package main

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ehigate/ehigate/gateway/console"
)

// withConsole returns the admin listener's handler with the compliance
// console: /console/ is the console (which calls api in-process with the
// signed-in user's credential), GET / redirects to it, and everything
// else is api.
func withConsole(api http.Handler, log *slog.Logger) (http.Handler, error) {
	c, err := console.New(console.Options{API: api, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("admin console: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Prefix, c)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, console.Prefix, http.StatusSeeOther)
	})
	mux.Handle("/", api)
	return mux, nil
}
