package mirror

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/packstudio/packstudio/internal/tree"
)

// FuzzParseVolumeIndex: any volume.json is refused or names only safe
// paths, and an accepted one encodes to bytes that parse to the same index
// and encode the same again.
func FuzzParseVolumeIndex(f *testing.F) {
	seed, _ := json.MarshalIndent(VolumeIndex{Volume: 1, Volumes: 2, ManifestSHA256: strings.Repeat("ab", 32), Entries: []VolumeEntry{
		{Path: "index.html", Name: "index.html", Size: 10, Whole: true},
		{Path: "artifacts/iso/appliance-4.7.3.iso", Name: "artifacts/iso/appliance-4.7.3.iso.part-002", Offset: 1 << 20, Size: 5},
	}}, "", " ")
	f.Add(seed)
	f.Add([]byte(`{"volume":1,"volumes":1,"entries":[{"path":"../x","name":"x","size":1,"whole":true}]}`))
	f.Add([]byte(`{"entries":[{"path":"a","name":"a\\b"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var idx VolumeIndex
		entries, err := parseVolumeIndex(data, &idx)
		if err != nil {
			return
		}
		for name, e := range entries {
			if name != e.Name || tree.CheckPath(e.Path) != nil || tree.CheckPath(e.Name) != nil {
				t.Fatalf("unsafe entry accepted: %+v", e)
			}
		}
		enc, err := json.Marshal(idx)
		if err != nil {
			t.Fatal(err)
		}
		var again VolumeIndex
		if _, err := parseVolumeIndex(enc, &again); err != nil || !reflect.DeepEqual(again, idx) {
			t.Fatalf("re-parsed %s: %+v, %v; want %+v", enc, again, err, idx)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc2, enc) {
			t.Fatalf("encoding is not stable: %s then %s", enc, enc2)
		}
	})
}

// TestParseVolumeIndexRefuses: a volume.json that is not JSON, or that
// names a path outside the tree, is refused for that reason.
func TestParseVolumeIndexRefuses(t *testing.T) {
	for _, tt := range []struct{ name, data, want string }{
		{"not JSON", `{"volume":`, "bad volume.json: unexpected end of JSON input"},
		{"wrong type", `{"entries":{}}`, "bad volume.json: json: cannot unmarshal object"},
		{"traversal in path", `{"entries":[{"path":"../x","name":"x","size":1,"whole":true}]}`, "volume.json names an unsafe path"},
		{"absolute name", `{"entries":[{"path":"x","name":"/etc/x","size":1,"whole":true}]}`, "volume.json names an unsafe path"},
		{"backslash in name", `{"entries":[{"path":"x","name":"a\\b"}]}`, "volume.json names an unsafe path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var idx VolumeIndex
			if _, err := parseVolumeIndex([]byte(tt.data), &idx); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
