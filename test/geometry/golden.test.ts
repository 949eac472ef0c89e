// Rotation losses against float64 torch (test/fixtures/generate_geometry.py).
import {describeGoldenCases} from '../golden';

describeGoldenCases('geometry.json', ['geodesicLoss', 'quaternionGeodesicLoss'], {rtol: 1e-4, atol: 2e-5});
