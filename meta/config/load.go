package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
)

// Load reads the TOML file at path over Default(); see Parse.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		setFile(err, path)
		return Config{}, err
	}
	return c, nil
}

// Parse decodes a TOML document over Default(): absent keys keep their
// defaults, unknown keys are errors naming the key and its position. It
// does not validate.
func Parse(data []byte) (Config, error) {
	c := Default()
	err := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields().Decode(&c)
	if err == nil {
		return c, nil
	}
	var missing *toml.StrictMissingError
	if errors.As(err, &missing) {
		var errs []error
		for _, e := range missing.Errors {
			line, col := e.Position()
			errs = append(errs, &Error{Line: line, Column: col, Key: strings.Join(e.Key(), "."),
				Msg: "unknown key (see docs/horaemeta.md for the keys)"})
		}
		return Config{}, errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		return Config{}, &Error{Line: line, Column: col, Key: strings.Join(de.Key(), "."), Msg: de.String()}
	}
	return Config{}, &Error{Msg: err.Error()}
}

// setFile records path in every *Error of err.
func setFile(err error, path string) {
	switch e := err.(type) {
	case *Error:
		e.File = path
	case interface{ Unwrap() []error }:
		for _, e := range e.Unwrap() {
			setFile(e, path)
		}
	}
}

// ParseLevel maps a log level name to slog's.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "dpanic", "panic", "fatal":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}
