module github.com/gotoloka/toloka

go 1.24

require (
	github.com/google/go-querystring v1.2.0
	github.com/google/uuid v1.6.0
)
