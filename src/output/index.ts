export { COMPARE_FILE, COMPARE_PLOT_FILE, renderComparePlot, writeCompareFiles, type ComparedCurves } from './compare_files.js';
export { renderCurvePlot, type CurvePlot, type PlotSeries } from './curve_plot.js';
export { CONFIG_FILE, README_FILE, REPORT_FILE, OPERATOR_FILE, LIGO_FILES, NEW_PARAMETERS_FILE } from './files.js';
export { describeNewParameters, readNewParametersSummary, type NewParametersSummary } from './new_parameters_file.js';
export { writeGrownModel, weightBytes, outputDtype, roundToDtype, torchDtype, type WriteGrownModelOptions } from './write.js';
export type { GrowthReport, GrowthRunInfo } from './report.js';
export { checkOutputDir, writeAtomically } from './output_dir.js';
export { checkDiskSpace, type DiskSpaceOptions } from './disk_space.js';
export { checkOutputParent } from './out_parent.js';
export { openOperator, planForOperator, readOperator, writeOperator, writeSelectionOperator, type OpenedOperator, type OperatorMetadata } from './operator_file.js';
export {
  renderModelCard,
  readLicense,
  licenseOfCard,
  formatCommand,
  asModelCardReport,
  repoIdFromCachePath,
  type ModelCardReport,
  type ModelCardOptions,
} from './model_card.js';
