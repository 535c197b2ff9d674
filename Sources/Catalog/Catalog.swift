import Datasets
import Layers
import Perturbations
import Spec

/// Every concrete kind Gauntlet knows, one line each. This is the only place that names them.
public enum Catalog {
    public static let layers = Registry<any LayerSpec>("layer", [
        layer(LinearSpec.self),
        layer(Conv2dSpec.self),
        layer(MaxPool2dSpec.self),
        layer(AvgPool2dSpec.self),
        layer(ReLUSpec.self),
        layer(DropoutSpec.self),
        layer(FlattenSpec.self),
        layer(BatchNorm2dSpec.self),
    ])

    public static let optimizers = Registry<any OptimizerSpec>("optimizer", [
        optimizer(SGDSpec.self),
        optimizer(AdamSpec.self),
    ])

    public static let datasets = Registry<any DatasetSource>("dataset", [
        dataset(FashionMNISTSource.self),
        dataset(SyntheticSource.self),
    ])

    public static let corruptions = Registry<any Corruption>("corruption", [
        corruption(GaussianNoise.self),
    ])

    public static let attacks = Registry<any Attack>("attack", [
        attack(FGSM.self),
    ])

    /// Every registry's name and kind names, for `gauntlet list`.
    public static var listing: [(extensionPoint: String, kinds: [String])] {
        [("dataset", datasets.names), ("layer", layers.names), ("optimizer", optimizers.names),
         ("corruption", corruptions.names), ("attack", attacks.names)]
    }

    // MARK: - Entry builders (one per extension-point protocol)

    static func layer<T: LayerSpec>(_ type: T.Type) -> Registry<any LayerSpec>.Entry {
        .init(name: T.kind, typeName: "\(T.self)", decode: { c throws(SpecErrors) in try c.decode(as: T.self) }, problems: { _ in [] })
    }

    static func optimizer<T: OptimizerSpec>(_ type: T.Type) -> Registry<any OptimizerSpec>.Entry {
        .init(name: T.kind, typeName: "\(T.self)", decode: { c throws(SpecErrors) in try c.decode(as: T.self) }, problems: { $0.problems() })
    }

    static func dataset<T: DatasetSource>(_ type: T.Type) -> Registry<any DatasetSource>.Entry {
        .init(name: T.kind, typeName: "\(T.self)", decode: { c throws(SpecErrors) in try c.decode(as: T.self) }, problems: { $0.problems() })
    }

    static func corruption<T: Corruption>(_ type: T.Type) -> Registry<any Corruption>.Entry {
        .init(name: T.kind, typeName: "\(T.self)", decode: { c throws(SpecErrors) in try c.decode(as: T.self) }, problems: { $0.problems() })
    }

    static func attack<T: Attack>(_ type: T.Type) -> Registry<any Attack>.Entry {
        .init(name: T.kind, typeName: "\(T.self)", decode: { c throws(SpecErrors) in try c.decode(as: T.self) }, problems: { $0.problems() })
    }
}
