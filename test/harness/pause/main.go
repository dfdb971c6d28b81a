// The sandbox ("pause") container of the test node's Pods: it holds the Pod's
// namespaces and waits to be stopped. Built static by test/harness/node.ts and
// imported as the image containerd expects (registry.k8s.io/pause:3.10.2), as
// no registry can be reached.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
}
