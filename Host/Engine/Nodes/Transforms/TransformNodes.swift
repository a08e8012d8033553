/// Aggregates, selectors and transformations (`mean`, `derivative`, `join`, …), registered with the builder.
enum TransformNodes {
    static let specs: [NodeSpec] =
        InfluxQLSpecs.specs + DerivativeSpecs.specs + FilterSpecs.specs + JoinSpecs.specs + FlattenSpecs.specs
        + StatsSpecs.specs
}
