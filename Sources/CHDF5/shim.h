#include <hdf5.h>

/* HDF5 exposes its type and property-list ids, and its file-access flags, as macros that
   Swift cannot import. These inline functions give them to Swift by name. */
static inline hid_t gauntlet_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t gauntlet_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t gauntlet_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t gauntlet_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t gauntlet_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t gauntlet_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t gauntlet_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline unsigned gauntlet_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned gauntlet_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline size_t gauntlet_h5t_variable(void) { return H5T_VARIABLE; }
