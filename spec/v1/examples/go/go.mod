module rttinside/example

go 1.19
