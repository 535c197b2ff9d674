import Catalog
import Layers
import Storage
import Tensors

/// Model weights from an HDF5 file with a `/state_dict` group of datasets named by PyTorch
/// state-dict keys (`0.weight`, `conv1.bias`, …): a Gauntlet cell file, or a PyTorch
/// `state_dict()` written by `scripts/state_dict_to_hdf5.py`.
public enum StateDictFile {
    /// Why a weights file cannot initialise a model: the file and what is wrong.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every tensor of the file's `/state_dict` (integer datasets, such as batch norm's
    /// `num_batches_tracked`, become one-element tensors of the shape stored).
    public static func read(_ path: String) throws(Failure) -> [String: Tensor] {
        do {
            let file = try HDF5File.open(path)
            defer { file.close() }
            guard file.exists("/state_dict") else {
                throw Failure(description: "\(path): no /state_dict group (a Gauntlet cell file or scripts/state_dict_to_hdf5.py output)")
            }
            var state: [String: Tensor] = [:]
            for key in try file.members(of: "/state_dict") {
                let name = "/state_dict/\(key)"
                if key.hasSuffix("num_batches_tracked") {
                    let (shape, values) = try file.readIntegers(name)
                    state[key] = Tensor(shape: shape, scalars: values.map(Float.init))
                } else {
                    let (shape, values) = try file.readFloats(name)
                    state[key] = Tensor(shape: shape, scalars: values)
                }
            }
            return state
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "\(path): \(error)")
        }
    }

    /// Loads the model's weights file into `model`; the error names the file and the key.
    public static func load(_ resolved: ResolvedModel, into model: Sequential) throws(Failure) {
        guard let path = resolved.weights else { return }
        do {
            try model.loadStateDict(try read(path))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "model '\(resolved.name)': weights \(path): \(error)")
        }
    }
}
