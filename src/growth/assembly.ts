/**
 * One assembly of width matrices from their parameters (plan_types.ts WidthAssembly), over any
 * representation of a matrix: tfjs tensors for learning and materializing (operator_matrices.ts),
 * selections for the streamed gathers (stream/selection.ts). Both executors run this code, so
 * they agree by construction.
 */
import type { HeadDimAssembly, WidthAssembly } from './plan_types.js';

/** The matrix operations an assembly needs, in one representation M. */
export interface MatrixAlgebra<M> {
  parameter(name: string): M;
  identity(n: number): M;
  kron(a: M, b: M): M;
  /** [[a, 0], [0, b]]. */
  blockDiagonal(a: M, b: M): M;
  /** S + U V^T as one matrix (the selection executor: S while U is zero); tfjs applies it factored instead. */
  lowRank(a: Extract<WidthAssembly, { kind: 'lowRank' }>): M;
}

/** An attention operator's head_dim matrix H. */
export function headDimMatrix<M>(a: HeadDimAssembly, m: MatrixAlgebra<M>): M {
  switch (a.kind) {
    case 'identity':
      return m.identity(a.size);
    case 'factor':
      return m.parameter(a.factor);
    case 'rotary': {
      const rotated = m.kron(m.identity(2), m.parameter(a.factor)); // keeps rotate_half's (i, i + rotated/2) pairs
      return a.pass ? m.blockDiagonal(rotated, m.parameter(a.pass)) : rotated;
    }
  }
}

/** The full [large, small] matrix of one side (or, with part 'headDim', an attention operator's H alone). */
export function widthMatrix<M>(a: WidthAssembly, m: MatrixAlgebra<M>, part?: 'headDim'): M {
  switch (a.kind) {
    case 'heads': {
      const h = headDimMatrix(a.headDim, m);
      return part ? h : m.kron(m.parameter(a.heads), h);
    }
    case 'matrix':
      if (part) throw new Error(`width operator "${a.matrix}" has no head_dim factor`);
      return m.parameter(a.matrix);
    case 'lowRank':
      if (part) throw new Error(`width operator "${a.selection}" has no head_dim factor`);
      return m.lowRank(a);
  }
}
