package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// staticFiles are the pages and their assets, served as they are.
//
//go:embed static
var staticFiles embed.FS

// securityHeaders keep the pages to their own origin: scripts and styles
// from kefu only, no framing.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// page serves one HTML page. A page that needs the supervisor sends anyone
// else to the supervisor login.
func (s *server) page(name string, need role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if need == roleSupervisor {
			if p, err := s.identify(r); err != nil || p.role != roleSupervisor {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
		}
		b, err := fs.ReadFile(s.static, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		securityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(b)
	}
}

// assets serves /static/* (CSS, JavaScript): open to everyone.
func (s *server) assets() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(s.static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
