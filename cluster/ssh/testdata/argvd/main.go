// argvd is a test server for the SSH runtime: it prints each of its
// arguments quoted (%q), one a line, then "serving" and blocks until it is
// killed.
package main

import (
	"fmt"
	"os"
	"time"
)

func main() {
	for _, a := range os.Args[1:] {
		fmt.Printf("arg %q\n", a)
	}
	fmt.Println("serving")
	for {
		time.Sleep(time.Hour)
	}
}
