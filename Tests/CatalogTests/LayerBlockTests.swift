import Foundation
import Catalog
import Layers
import Spec
import Tensors
import Testing

/// `residual` and `repeat` entries of a model's layer list.
@Suite struct LayerBlockTests {
    /// A CIFAR ResNet-14 of width 4 written with blocks: the layers `resnet {depth: 14, width: 4}`
    /// writes, in the same order, reading the same layers.
    static let resnet = """
        schema_version: 1
        name: blocks
        dataset: {type: synthetic, side: 8, classes: 10}
        models:
          - name: written
            layers:
              - {type: conv2d, name: conv1, out_channels: 4, kernel_size: 3, padding: 1, bias: false}
              - {type: batchnorm2d, name: bn1}
              - {type: relu, name: relu}
              - type: repeat
                name: layer1
                count: 2
                layers:
                  - type: residual
                    body:
                      - {type: conv2d, name: conv1, out_channels: 4, kernel_size: 3, padding: 1, bias: false}
                      - {type: batchnorm2d, name: bn1}
                      - {type: relu, name: relu}
                      - {type: conv2d, name: conv2, out_channels: 4, kernel_size: 3, padding: 1, bias: false}
                      - {type: batchnorm2d, name: bn2}
                    after: [{type: relu, name: relu2}]
              - type: residual
                name: layer2.0
                body:
                  - {type: conv2d, name: conv1, out_channels: 8, kernel_size: 3, stride: 2, padding: 1, bias: false}
                  - {type: batchnorm2d, name: bn1}
                  - {type: relu, name: relu}
                  - {type: conv2d, name: conv2, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
                  - {type: batchnorm2d, name: bn2}
                shortcut:
                  - {type: conv2d, name: downsample.0, out_channels: 8, kernel_size: 1, stride: 2, bias: false}
                  - {type: batchnorm2d, name: downsample.1}
                after: [{type: relu, name: relu2}]
              - type: residual
                name: layer2.1
                body:
                  - {type: conv2d, name: conv1, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
                  - {type: batchnorm2d, name: bn1}
                  - {type: relu, name: relu}
                  - {type: conv2d, name: conv2, out_channels: 8, kernel_size: 3, padding: 1, bias: false}
                  - {type: batchnorm2d, name: bn2, inputs: [conv2]}
                after: [{type: relu, name: relu2}]
              - {type: adaptive_avg_pool2d, name: avgpool}
              - {type: flatten, name: flatten}
              - {type: linear, name: fc, out_features: 10}
        training: {optimizer: {type: adam}, epochs: 1, batch_size: 8}
        """

    @Test func blocksWriteTheLayersAnArchitectureWrites() throws {
        let grid = try ResolvedGrid.resolve(try SpecDocument.parse(Self.resnet, file: "blocks.yaml"))
        let written = grid.trials[0].experiment.models[0].nodes
        let expected = try ResNetSpec(depth: 14, width: 4).nodes(inputShape: [1, 8, 8], outputs: 10)
        // ResNet-14 has two blocks per stage and three stages; the file writes two stages.
        let twoStages = Array(expected.prefix { !$0.name.hasPrefix("layer3") }) + expected.suffix(3)
        #expect(written.map(\.name) == twoStages.map(\.name))
        let a = try ModelPlan(nodes: written, inputShape: [1, 8, 8]), b = try ModelPlan(nodes: twoStages, inputShape: [1, 8, 8])
        #expect(a.inputs == b.inputs && a.shapes == b.shapes)
    }

    @Test func blockErrorsAreLocated() {
        func problems(_ text: String) -> [String] {
            do {
                _ = try ResolvedGrid.resolve(try SpecDocument.parse(text, file: "blocks.yaml"))
                return []
            } catch {
                return error.issues.map(\.description)
            }
        }
        let unknownKey = Self.resnet.replacingOccurrences(of: "count: 2", with: "count: 2\n        times: 3")
        #expect(problems(unknownKey).first?.contains("models[0].layers[3].times: unknown key 'times'") == true, "\(problems(unknownKey))")
        let zero = Self.resnet.replacingOccurrences(of: "count: 2", with: "count: 0")
        #expect(problems(zero).first?.contains("models[0].layers[3].count: a repeat needs count ≥ 1") == true, "\(problems(zero))")
        let mismatch = Self.resnet.replacingOccurrences(of: "name: downsample.0, out_channels: 8", with: "name: downsample.0, out_channels: 6")
        #expect(
            problems(mismatch).first?.contains("layer 'layer2.0.add' (add): expects inputs of one shape") == true, "\(problems(mismatch))")
        let inner = Self.resnet.replacingOccurrences(of: "{type: batchnorm2d, name: bn2, inputs: [conv2]}", with: "{type: bsatchnorm2d, name: bn2}")
        #expect(problems(inner).first?.contains("models[0].layers[5].body[4].type: unknown layer 'bsatchnorm2d'") == true, "\(problems(inner))")
    }
}
