package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"kefu/cmd/kefu/internal/config"
)

// supervisorToken returns the supervisor token: the configuration's, the
// file it names, or one made at the first start and kept in
// DATA/supervisor-token (mode 0600). Only where it is, never the token, is
// logged.
func supervisorToken(cfg *config.Config, dataDir string, log *slog.Logger) (string, error) {
	if t := cfg.Auth.SupervisorToken; t != "" {
		return t, nil
	}
	path, made := cfg.Resolve(cfg.Auth.SupervisorTokenFile), false
	if path == "" {
		path, made = filepath.Join(dataDir, "supervisor-token"), true
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		t := strings.TrimSpace(string(b))
		if len(t) < 16 {
			return "", fmt.Errorf("supervisor token in %s is shorter than 16 characters: put a long random one there (openssl rand -hex 24)", path)
		}
		log.Info("supervisor token read", "file", path)
		return t, nil
	case !errors.Is(err, os.ErrNotExist) || !made:
		return "", fmt.Errorf("supervisor token: %w (auth.supervisor_token_file must name a readable file)", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("supervisor token: %w", err)
	}
	t := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("supervisor token: %w (choose another -data or set auth.supervisor_token_file)", err)
	}
	log.Warn("no supervisor token configured: one was made; supervisors log in with the token in this file", "file", path)
	return t, nil
}
