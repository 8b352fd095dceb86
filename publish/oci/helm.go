package oci

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// maxChartYAML bounds the Chart.yaml read from a chart.
const maxChartYAML = 1 << 20

// maxChartScan bounds how much of a chart's tar is read looking for its
// Chart.yaml, so a hostile archive costs little.
const maxChartScan = 64 << 20

// helmConfig returns the Helm OCI config (Chart.yaml's metadata as JSON)
// of a packaged chart, or ok false when its bytes are not a chart with a
// name, version and apiVersion: it is then pushed as a plain file.
func helmConfig(tgz io.Reader) (config []byte, ok bool) {
	gz, err := gzip.NewReader(io.LimitReader(tgz, maxChartScan))
	if err != nil {
		return nil, false
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, false
		}
		dir, file, _ := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/")
		if dir == "" || file != "Chart.yaml" || h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxChartYAML+1))
		if err != nil || len(data) > maxChartYAML {
			return nil, false
		}
		meta := chartMetadata(data)
		if meta["name"] == "" || meta["version"] == "" {
			return nil, false
		}
		if meta["apiVersion"] == "" {
			meta["apiVersion"] = "v2"
		}
		b, err := json.Marshal(meta)
		return b, err == nil
	}
}

// chartMetadata reads the top-level scalar fields of a Chart.yaml that the
// Helm config carries. Lists and maps (maintainers, dependencies) are left
// out: Helm reads them from the chart itself.
func chartMetadata(data []byte) map[string]string {
	keep := map[string]bool{"apiVersion": true, "name": true, "version": true, "appVersion": true,
		"description": true, "type": true, "kubeVersion": true, "home": true, "icon": true}
	meta := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue
		}
		k, v, found := strings.Cut(line, ":")
		if !found || !keep[k] {
			continue
		}
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		v = strings.TrimSpace(v)
		if uq, err := unquote(v); err == nil {
			v = uq
		}
		if v != "" {
			meta[k] = v
		}
	}
	return meta
}

func unquote(v string) (string, error) {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1], nil
	}
	return "", errors.New("not quoted")
}
