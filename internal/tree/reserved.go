package tree

// Reserved are the names the site uses itself where a name from the
// catalog or the site config also goes: a content page's slug and the
// public key's name sit at the root beside the site's own pages; a product
// id under bundle/ beside the start page and the selection; a cloud id
// under bundle/<product>/<version>/ beside the add-on only builder; a layer
// id is a control name in the builder's form and a key of its URL
// fragment, beside the arch and FIPS toggles and the form's own properties
// that bundle.js reads. One list for all of them, so an id is never
// refused in one place and let through in another, and a name added here
// is refused everywhere.
//
// generator's TestReservedNamesCoverTheTree walks a built tree against
// it, so a page added at the root or under bundle/ fails until it is here.
// The value says what the name is, for the message that refuses it.
var Reserved = map[string]string{
	// The root of the tree.
	"index.html":    "the home page",
	"assets":        "the theme's scripts and styles (assets/)",
	"artifacts":     "the artifacts (artifacts/)",
	"browse":        "the browse pages (browse/)",
	"bundle":        "the bundle builder (bundle/)",
	"compat":        "the compatibility index (compat/)",
	"packs":         "the pack pages (packs/)",
	"releases":      "the release pages (releases/)",
	"search":        "the search page (search/)",
	"verify":        "the verify page (verify/)",
	"catalog.json":  "the catalog's JSON (catalog.json)",
	"search.json":   "the search index (search.json)",
	URLList:         "the list of every URL (urls.txt)",
	SumsList:        "a list of checksums (SHA256SUMS)",
	ManifestName:    "the signed manifest (manifest.json)",
	ManifestSigName: "the manifest's signature (manifest.json.sig.bin)",
	// A browse segment that stands for every value.
	"all": "the browse segment that stands for every value",
	// Under bundle/ and bundle/<product>/<version>/.
	"selection": "the review of picked pack versions (bundle/selection/)",
	"addons":    "the add-on only builder (bundle/<product>/<version>/addons/)",
	"latest":    "the newest release of a product, for scripts (releases/<product>/latest/)",
	// In the builder's form and URL fragment (theme/assets/bundle.js).
	"arch":     "the builder's architecture toggle (form control and URL fragment key)",
	"fips":     "the builder's FIPS toggle (form control and URL fragment key)",
	"elements": "a property of the builder's form that bundle.js reads (form.elements)",
	"dataset":  "a property of the builder's form that bundle.js sets (form.dataset)",
}
