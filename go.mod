module github.com/f2bx/f2bx

go 1.26.8

require (
	github.com/dlclark/regexp2 v1.11.5
	github.com/flier/gohs v1.2.3
	github.com/pelletier/go-toml/v2 v2.2.4
	github.com/spf13/cobra v1.10.2
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
