package reload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reloads whenever something changes in the flows directory or any
// directory below it (prompts/, tests/, and directories created later),
// until ctx ends; then it returns nil. Changes are debounced: the reload
// comes Config.Debounce after the last change (250 ms by default), so an
// editor's write-and-rename, or a copy of many files, is one reload. Editor
// temporary files (.swp, ~, .#name, #name#) and attribute-only changes are
// ignored. Replacing the directory itself (rather than files in it) is not
// seen: send SIGHUP or use the API then.
//
// Watch fails only when it cannot start watching.
func (r *Reloader) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("reload: watch %s: %w (on Linux fs.inotify.max_user_instances may be too low; SIGHUP and the API still reload)", r.cfg.Dir, err)
	}
	defer w.Close()
	if _, err := addTree(w, r.cfg.Dir); err != nil {
		return fmt.Errorf("reload: watch %s: %w (check that the directory exists and is readable; on Linux fs.inotify.max_user_watches may be too low; SIGHUP and the API still reload)", r.cfg.Dir, err)
	}
	r.log.Info("watching flows for changes", "dir", r.cfg.Dir)

	changes := make(chan string, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.translate(ctx, w, changes)
	}()
	debounce(ctx, changes, r.cfg.Debounce, 4*r.cfg.Debounce, func(names []string) {
		r.Reload(changeReason(names))
	})
	<-done
	return nil
}

// translate turns fsnotify events into the names (relative to the flows
// directory) of the paths that changed, watching new directories as they
// appear. It returns when ctx ends.
func (r *Reloader) translate(ctx context.Context, w *fsnotify.Watcher, changes chan<- string) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if !ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename) || ignored(filepath.Base(ev.Name)) {
				continue
			}
			names := []string{ev.Name}
			if ev.Has(fsnotify.Create) {
				// A new directory: watch it, and report the files already
				// in it, made before the watch was in place.
				files, err := addTree(w, ev.Name)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					r.log.Warn("cannot watch new directory: changes in it need SIGHUP or the API", "dir", ev.Name, "err", err)
				}
				names = append(names, files...)
			}
			for _, n := range names {
				if !r.send(ctx, changes, r.relative(n)) {
					return
				}
			}
			continue
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				r.log.Warn("watching flows", "dir", r.cfg.Dir, "err", err)
				continue
			}
			// Events were lost: reload to be sure.
			if !r.send(ctx, changes, "(too many changes to list)") {
				return
			}
		}
	}
}

// send passes one changed name on; false when ctx ended first.
func (r *Reloader) send(ctx context.Context, changes chan<- string, name string) bool {
	select {
	case changes <- name:
		return true
	case <-ctx.Done():
		return false
	}
}

// relative names path relative to the flows directory, with slashes.
func (r *Reloader) relative(path string) string {
	if rel, err := filepath.Rel(r.cfg.Dir, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// debounce collects names from changes and calls fire with them (sorted,
// each once) when no change came for quiet, or when longest has passed since
// the first change of the batch, whichever is first. fire runs on debounce's
// goroutine; changes arriving meanwhile start the next batch. It returns
// when ctx ends, dropping a batch not yet fired.
func debounce(ctx context.Context, changes <-chan string, quiet, longest time.Duration, fire func(names []string)) {
	var (
		batch    []string
		first    time.Time
		timer    = time.NewTimer(time.Hour)
		deadline <-chan time.Time
	)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case name := <-changes:
			now := time.Now()
			if batch == nil {
				first = now
			}
			if !slices.Contains(batch, name) {
				batch = append(batch, name)
			}
			wait := min(quiet, longest-now.Sub(first))
			timer.Reset(max(wait, 0))
			deadline = timer.C
		case <-deadline:
			names := batch
			batch, deadline = nil, nil
			slices.Sort(names)
			fire(names)
		}
	}
}

// changeReason is the reload reason for a batch of changed paths.
func changeReason(names []string) string {
	const most = 5
	if len(names) > most {
		return fmt.Sprintf("file change: %s and %d more", strings.Join(names[:most], ", "), len(names)-most)
	}
	return "file change: " + strings.Join(names, ", ")
}

// addTree watches dir and every directory below it, except .git, and
// returns the files it found there.
func addTree(w *fsnotify.Watcher, dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		if !d.IsDir() {
			if path != dir && !ignored(d.Name()) {
				files = append(files, path)
			}
			return nil
		}
		if path != dir && d.Name() == ".git" {
			return filepath.SkipDir
		}
		return w.Add(path)
	})
	return files, err
}

// ignored reports whether a file name is an editor's temporary file, whose
// changes are not worth a reload: vim (.x.swp, .x.swx, 4913, x~), emacs
// (.#x, #x#) and JetBrains (x___jb_tmp___, x___jb_old___).
func ignored(name string) bool {
	switch {
	case strings.HasPrefix(name, ".#"),
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"),
		strings.HasSuffix(name, "~"),
		strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"), strings.HasSuffix(name, ".swo"),
		strings.HasSuffix(name, "___jb_tmp___"), strings.HasSuffix(name, "___jb_old___"),
		name == "4913":
		return true
	}
	return false
}
