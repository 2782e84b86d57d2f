module github.com/forgetkit/forget

go 1.26.8
