package synth

// Word lists for names. They are small on purpose: collisions get a number
// suffix ("cni-calico-7"), as they would in a big real catalog with many
// variants of the same component. No word ends in "-<digits>", so suffixed
// names cannot collide with plain ones.

// layerSpec is a catalog layer and its share of the packs.
type layerSpec struct {
	id, name string
	share    float64
	multiple bool // written as multiple = true
}

var layerSpecs = []layerSpec{
	{"os", "Operating system", 0.06, false},
	{"k8s", "Kubernetes", 0.04, false},
	{"cni", "Network", 0.05, false},
	{"csi", "Storage", 0.10, false},
	{"addon", "Add-on", 0.75, true},
}

// cloudSpec is a named cloud; clouds past this list are "cloudN".
type cloudSpec struct{ id, name, kind string }

var cloudSpecs = []cloudSpec{
	{"aws", "AWS", "public"},
	{"azure", "Microsoft Azure", "public"},
	{"gcp", "Google Cloud", "public"},
	{"vsphere", "VMware vSphere", "datacenter"},
	{"maas", "Canonical MAAS", "datacenter"},
	{"openstack", "OpenStack", "datacenter"},
	{"edge-native", "Edge Native", "edge"},
}

var cloudKinds = []string{"public", "datacenter", "edge"}

var productSpecs = []struct{ id, name string }{
	{"palette", "Palette"},
	{"vertex", "Palette VerteX"},
}

// OS packs are "<distro>-<cloud>", the one cloud they run on.
var osDistros = []string{
	"ubuntu", "rhel", "sles", "rocky", "flatcar", "talos", "debian", "alma", "opensuse", "bottlerocket",
}

var k8sDistros = []string{"kubernetes", "k3s", "rke2", "microk8s", "kubeadm", "k0s", "eks", "aks", "gke"}

var k8sFlavours = []string{"edge", "lts", "fips", "core", "std", "lite", "hardened", "cloud"}

var cniWords = []string{
	"calico", "cilium", "flannel", "antrea", "weave", "canal", "multus", "kube-ovn", "kube-router", "ovn", "flux", "romana",
}

var csiWords = []string{
	"aws-ebs", "azure-disk", "gcp-pd", "vsphere", "portworx", "rook-ceph", "longhorn", "openebs",
	"nfs", "topolvm", "trident", "minio", "ceph-rbd", "local-path", "netapp", "pure",
}

// addonWords pairs a component with its addon_type.
var addonWords = []struct{ word, kind string }{
	{"nginx", "ingress"}, {"traefik", "ingress"}, {"contour", "ingress"}, {"kong", "ingress"},
	{"prometheus", "monitoring"}, {"grafana", "monitoring"}, {"metrics", "monitoring"}, {"thanos", "monitoring"},
	{"loki", "logging"}, {"fluentbit", "logging"}, {"jaeger", "logging"}, {"vector", "logging"},
	{"vault", "security"}, {"kyverno", "security"}, {"falco", "security"}, {"trivy", "security"}, {"opa", "security"},
	{"istio", "servicemesh"}, {"linkerd", "servicemesh"}, {"consul", "servicemesh"},
	{"dex", "authentication"}, {"spire", "authentication"}, {"cert", "authentication"},
	{"harbor", "registry"}, {"zot", "registry"},
	{"velero", "backup"}, {"kasten", "backup"},
	{"argo", "system-app"}, {"keda", "system-app"}, {"kube", "system-app"}, {"redis", "system-app"}, {"kafka", "system-app"},
}

var addonSuffixes = []string{
	"operator", "agent", "ingress", "proxy", "gateway", "manager", "exporter", "server", "controller", "dns",
	"secrets", "backup", "mesh", "stack", "sync", "lite", "policy", "scanner", "relay", "hub",
	"dashboard", "collector", "webhook", "autoscaler", "injector", "connector", "adapter", "frontend",
}

// fillerWords pad payloads to their size.
var fillerWords = []string{
	"image", "chart", "values", "digest", "layer", "manifest", "config", "registry", "tag", "replicas",
	"resources", "limits", "requests", "service", "port", "volume", "namespace", "label", "selector", "probe",
}
