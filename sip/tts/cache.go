package tts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"kefu/sip/media"
)

// readCache loads a cached prompt; the error wraps os.ErrNotExist when the
// prompt was never cached.
func readCache(path string) ([]int16, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return media.DecodeWAV(data)
}

// writeCache stores pcm at path as an 8 kHz WAV file, atomically: it is
// written to a temporary file in the same directory, synced and renamed, so
// a reader (or a restart after a crash) sees the whole file or none.
func writeCache(path string, pcm []int16) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.wav")
	if err != nil {
		return fmt.Errorf("cache file: %w", err)
	}
	_, err = tmp.Write(media.EncodeWAV(pcm))
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = tmp.Chmod(0o640)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("cache file %s: %w", path, errors.Join(err, os.Remove(tmp.Name())))
	}
	return nil
}

// checkWritable creates and removes a file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}
