// A pass-through UDF written with UDFKit (built by the UDF SDK work).
